"""Closed vocabularies of the decision point: actions, outcomes and reason codes.

Purposes, databases and categories are open vocabularies: they come from ``policies/`` and are
checked against it, not against an enum.
"""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    READ = "read"
    EXPORT = "export"
    UPDATE = "update"
    DELETE = "delete"


class Outcome(StrEnum):
    PERMIT = "permit"
    DENY = "deny"


class ReasonCode(StrEnum):
    """Why a decision came out as it did; one per step of the pipeline (DESIGN.md)."""

    PERMITTED = "permitted"
    DIRECTORY_STALE = "directory_stale"
    """The directory snapshot is older than allowed (its source unreachable for too long)."""
    UNKNOWN_SUBJECT = "unknown_subject"
    ACCOUNT_DISABLED = "account_disabled"
    NOT_AUTHORISED = "not_authorised"
    PURPOSE_NOT_ALLOWED = "purpose_not_allowed"
    CONTRACT_CLAUSE_MISSING = "contract_clause_missing"
    AUTHENTICATION_REQUIRED = "authentication_required"
    MFA_REQUIRED = "mfa_required"
    MFA_STALE = "mfa_stale"
    JUSTIFICATION_REQUIRED = "justification_required"
    CONSENT_MISSING = "consent_missing"
    AUDIT_UNAVAILABLE = "audit_unavailable"
    INTERNAL_ERROR = "internal_error"
    DIRECTORY_UNAVAILABLE = "directory_unavailable"
    """Fail closed: the directory raised while the request was evaluated."""
    STORE_UNAVAILABLE = "store_unavailable"
    """Fail closed: the store (or a view served from it) raised while evaluating."""


class EmployeeType(StrEnum):
    EMPLOYEE = "employee"
    CONTRACTOR = "contractor"


class AuthMethod(StrEnum):
    """Authentication method references (RFC 8176 values) carried in session tokens."""

    PASSWORD = "pwd"  # noqa: S105 - a method name, not a secret
    OTP = "otp"
    HARDWARE_KEY = "hwk"
    RECOVERY_CODE = "rcc"
    """A one-time recovery code stood in for the authenticator (not an RFC 8176 value)."""


class AdminRole(StrEnum):
    """Directory roles that open Guardian's administrative endpoints (``require_roles``)."""

    SECURITY_OFFICER = "security-officer"
    AUDITOR = "auditor"
    DPO = "dpo"
    REVIEWER = "reviewer"
