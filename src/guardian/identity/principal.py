"""A principal: one employee or contractor as the directory describes them."""

from __future__ import annotations

from dataclasses import dataclass

from guardian.identity.vocabulary import EmployeeType


@dataclass(frozen=True, slots=True)
class Principal:
    uid: str
    name: str
    roles: frozenset[str]
    employee_type: EmployeeType = EmployeeType.EMPLOYEE
    active: bool = True
    supplier: str | None = None
    contract_clause: bool = False
    """Contractors only: their supplier signed the data-protection clause."""
    manager: str | None = None

    @property
    def is_contractor(self) -> bool:
        return self.employee_type is EmployeeType.CONTRACTOR
