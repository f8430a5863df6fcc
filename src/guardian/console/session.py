"""Who is signed in to the console, and the gate of each page.

The console keeps the API's session token in an HttpOnly cookie; nothing else about the
session lives in the browser or the server. A page names the directory roles it needs; the
check is the API's own (:func:`guardian.api.deps.caller_of`: directory roles, a second factor
at most ``GUARDIAN_ADMIN_MFA_MAX_AGE_S`` old), except that the roles are looked at first so
that nobody is asked to step up for a page they could never open. Someone not signed in is
sent to the sign-in page, someone whose factor is stale to the step-up page, both coming back
where they were.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from starlette.requests import Request

from guardian.api.deps import OFFICER_ROLES, REPORT_ROLES, TRAIL_ROLES, caller_of
from guardian.api.reviews import CAMPAIGN_READERS, INBOX_ROLES
from guardian.bootstrap import Guardian
from guardian.errors import AuthenticationError, FreshMfaRequired, RoleRequired
from guardian.identity.authorisation import Caller, mfa_is_fresh
from guardian.identity.tokens import SessionClaims

SESSION_COOKIE = "guardian_console_session"
SIGNED_IN_COOKIE = "guardian_console_signed_in"
"""A marker without the session's lifetime: present without a valid session, it ended."""


@dataclass(frozen=True, slots=True)
class Visitor:
    """The person signed in to the console."""

    uid: str
    name: str
    roles: frozenset[str]
    claims: SessionClaims
    fresh: bool
    """Their second factor is young enough for administrative pages."""

    @property
    def enrolment_only(self) -> bool:
        """Signed in with password and invitation: good for enrolling a factor only."""
        return not self.claims.multi_factor

    def may(self, roles: Iterable[str]) -> bool:
        return bool(self.roles & frozenset(roles))


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    path: str
    roles: frozenset[str]


NAV: tuple[NavItem, ...] = (
    NavItem("Your reviews", "/console/reviews", INBOX_ROLES),
    NavItem("Campaigns", "/console/campaigns", CAMPAIGN_READERS),
    NavItem("Grants", "/console/grants", OFFICER_ROLES),
    NavItem("Application keys", "/console/keys", OFFICER_ROLES),
    NavItem("Invitations", "/console/invitations", OFFICER_ROLES),
    NavItem("Policy", "/console/policy", OFFICER_ROLES),
    NavItem("Audit trail", "/console/trail", TRAIL_ROLES),
    NavItem("Customer reports", "/console/customers", TRAIL_ROLES),
    NavItem("Periodic reports", "/console/reports", REPORT_ROLES),
    NavItem("Integrity", "/console/integrity", REPORT_ROLES),
)


def navigation(visitor: Visitor | None) -> list[NavItem]:
    """The pages this visitor's roles open (never a link to a page they cannot use)."""
    if visitor is None or visitor.enrolment_only:
        return []
    return [item for item in NAV if visitor.may(item.roles)]


class SignInNeeded(Exception):
    """No valid session: go to the sign-in page, then back to ``next``."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class StepUpNeeded(SignInNeeded):
    """The second factor is too old for this page: step up, then back to ``next``."""


def back_to(request: Request) -> str:
    """Where to return after signing in: this page (GET) or the page a form came from."""
    path = request.url.path
    if not path.startswith("/console/"):
        return "/console/"
    if request.method != "GET":
        # A form's own page: /console/grants/ID/revoke came from /console/grants.
        return "/console/" + path.split("/")[2]
    return path + ("?" + request.url.query if request.url.query else "")


def next_query(path: str) -> str:
    return "?next=" + quote(path, safe="/")


def visitor_of(request: Request, guardian: Guardian) -> Visitor | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        claims = guardian.sessions.verify(token)
    except AuthenticationError:
        return None
    principal = guardian.directory.get(claims.sub)
    if principal is None or not principal.active:
        return None
    fresh = mfa_is_fresh(claims, guardian.clock.now(),
                         guardian.settings.identity.admin_mfa_max_age_s)
    return Visitor(principal.uid, principal.name, principal.roles, claims, fresh)


def token_of(request: Request) -> str:
    return request.cookies.get(SESSION_COOKIE, "")


def require(request: Request, guardian: Guardian, roles: frozenset[str]) -> Caller:
    """The caller of a page needing ``roles``, through the API's gate."""
    visitor = visitor_of(request, guardian)
    if visitor is None or visitor.enrolment_only:
        raise SignInNeeded(back_to(request))
    if not visitor.may(roles):
        raise RoleRequired("your roles do not open this page")
    try:
        return caller_of(guardian, visitor.claims, roles)
    except FreshMfaRequired as exc:
        raise StepUpNeeded(back_to(request)) from exc


def safe_next(value: str | None) -> str:
    """A return path inside the console only (no open redirect)."""
    if value and value.startswith("/console/") and "//" not in value and "\\" not in value \
            and all(32 < ord(c) < 127 for c in value):
        return value
    return "/console/"
