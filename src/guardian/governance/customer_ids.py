"""What a customer id must look like: NFC-normalised, matching the organisation's pattern.

A look-alike or invisible-character variant of an id must be refused, never recorded under a
second name (a consent given to ``C-1001`` with a zero-width space would count for nobody).
This is the one place consent checks it; the pattern is handed in, so the organisation's
setting (``GUARDIAN_CUSTOMER_ID_PATTERN``) replaces :data:`DEFAULT_CUSTOMER_ID_PATTERN` here.
"""

from __future__ import annotations

import re
import unicodedata

from guardian.errors import InvalidCustomerId

DEFAULT_CUSTOMER_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
"""ASCII letters, digits and ``._:-``, 1 to 128 of them (DESIGN.md, input limits)."""


def canonical_customer_id(raw: str, pattern: re.Pattern[str] = DEFAULT_CUSTOMER_ID_PATTERN
                          ) -> str:
    """``raw`` in NFC if it then matches ``pattern`` in full; :class:`InvalidCustomerId` else."""
    value = unicodedata.normalize("NFC", raw)
    if len(value) > 128 or pattern.fullmatch(value) is None:
        raise InvalidCustomerId(
            f"customer id {value[:40]!r} does not match the organisation's pattern "
            f"{pattern.pattern}")
    return value
