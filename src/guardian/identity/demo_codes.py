"""The demo organisation's TOTP codes, for newcomers trying the demo (``guardian demo totp``).

The demo's seeds are public by design (DESIGN.md: base32 of ``guardian-demo-<uid>``,
unpadded), so showing a demo person's current code gives away nothing a real deployment holds;
the command refuses outside demo mode.
"""

from __future__ import annotations

import base64

from guardian.identity.totp import STEP_S, code_at


def demo_seed(uid: str) -> str:
    """A demo person's public TOTP seed."""
    return base64.b32encode(f"guardian-demo-{uid}".encode()).decode().rstrip("=")


def demo_code(uid: str, at: float) -> tuple[str, int]:
    """The code a demo person's authenticator shows at ``at``, and its seconds left."""
    return code_at(demo_seed(uid), at), STEP_S - int(at % STEP_S)
