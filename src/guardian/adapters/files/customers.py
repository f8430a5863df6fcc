"""The demo customers file: which customer consented to which purpose, before any change.

``customers: [{id, consents: [purpose, ...]}]``. Read to seed an empty consent store (the
demo organisation's starting state) and by what-if checks that decide without a store.
"""

from __future__ import annotations

from pathlib import Path

from guardian.adapters.files.yaml_lines import load_plain


def read_customer_consents(path: Path | None) -> list[tuple[str, str]]:
    """(customer, purpose) pairs of the file; none without a file."""
    if path is None:
        return []
    raw = load_plain(path) or {}
    return [
        (str(c["id"]), str(purpose))
        for c in raw.get("customers", [])
        for purpose in c.get("consents", [])
    ]
