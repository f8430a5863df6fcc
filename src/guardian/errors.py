"""Every error Guardian raises on purpose, rooted at :class:`GuardianError`.

Adapters translate vendor exceptions into these at the boundary (``raise ... from exc``); only
``guardian.api`` maps them to HTTP statuses, in one table. Each class carries a stable,
machine-readable ``code``::

    GuardianError                      code
    ├── ConfigurationError             configuration_error
    ├── InvalidRequest                 invalid_request
    │   ├── UnknownRole                unknown_role        (not a role of the policy)
    │   ├── UnknownUser                unknown_user        (not in the directory)
    │   ├── GrantTooLong               grant_too_long      (expiry beyond the maximum)
    │   ├── RoleNotGrantable           role_not_grantable  (grants no data access, or admin)
    │   ├── StartsInPast               starts_at_in_past   (a grant starting before now)
    │   ├── CodeMismatch               code_mismatch       (first code of an enrolment is wrong)
    │   ├── InvalidWebAuthn            webauthn_invalid    (registration response refused)
    │   ├── AlreadyEnrolled            already_enrolled    (an invitation for someone enrolled)
    │   ├── InvalidCustomerId          invalid_customer_id (not NFC-canonical or off the pattern)
    │   ├── UnknownPurpose             unknown_purpose     (not declared in guardian.yaml)
    │   ├── ConsentNotNeeded           consent_not_needed  (a purpose that needs no consent)
    │   ├── InvalidConsent             invalid_consent     (a source or time that cannot be kept)
    │   ├── JustificationRequired      justification_required (a review decision needs one)
    │   └── ReviewerIneligible         reviewer_ineligible (reassigned to someone who may not)
    ├── NotFound                       not_found
    │   ├── GrantNotFound              grant_not_found
    │   ├── DefinitionNotFound         definition_not_found (no such review definition)
    │   ├── CampaignNotFound           campaign_not_found
    │   └── ItemNotFound               item_not_found
    ├── Conflict                       conflict            (the state forbids it now)
    │   ├── GrantAlreadyRevoked        grant_already_revoked
    │   ├── StageClosed                stage_closed        (deciding after the stage closed)
    │   ├── CampaignStateConflict      campaign_state      (not in a state that allows it)
    │   ├── PolicyUnchanged            policy_unchanged    (that version is already in force)
    │   └── PolicyConflict             policy_conflict     (another was applied meanwhile)
    ├── PolicyError                    policy_error
    │   ├── PolicyLintError            policy_lint_error   (carries every finding)
    │   └── PolicyTestsFailed          policy_tests_failed (a policy test case fails)
    ├── AuthenticationError            authentication_failed
    │   ├── InvalidCredentials         invalid_credentials (no hint which factor was wrong)
    │   ├── AccountLocked              account_locked
    │   ├── InvalidToken               invalid_token
    │   ├── InvalidApiKey              invalid_api_key
    │   └── NotSignedIn                not_signed_in       (a server runs: `guardian login` first)
    ├── PermissionDenied               forbidden
    │   ├── RoleRequired               role_required       (the caller lacks an admin role)
    │   ├── FreshMfaRequired           fresh_mfa_required  (step up first)
    │   ├── SelfGrantForbidden         self_grant_forbidden
    │   ├── ScopeRequired              scope_required      (the API key lacks the endpoint's scope)
    │   ├── CsrfRejected               csrf_token_invalid  (a console form without its token)
    │   ├── NotYourItem                not_your_item       (a review item of someone else)
    │   └── NotIndependent             not_independent     (sign-off by someone who reviewed)
    ├── StoreUnavailable               store_unavailable
    ├── DirectoryUnavailable           directory_unavailable
    ├── DirectoryWriteFailed           directory_write_failed (LDAP refused a remediation)
    ├── AuditError                     audit_error
    │   ├── AuditUnavailable           audit_unavailable
    │   ├── AuditIndexUnavailable      audit_index_unavailable (search/shipping target down)
    │   ├── WitnessUnavailable         audit_witness_unavailable (checkpoint webhook failed)
    │   └── ChainBroken                chain_broken
    ├── ReportRendererUnavailable      report_renderer_unavailable (PDF renderer missing/failing)
    └── DeliveryFailed                 delivery_failed     (a mail or webhook was not accepted)
    (the command line as the server's client)
    ├── ServerUnreachable              server_unreachable  (no answer from GUARDIAN_URL)
    └── ServerRefused                  the server's code   (its {"error": {...}}, passed on)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class GuardianError(Exception):
    """Root of Guardian's own errors."""

    code = "guardian_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(GuardianError):
    code = "configuration_error"


class InvalidRequest(GuardianError):
    code = "invalid_request"


class UnknownRole(InvalidRequest):
    code = "unknown_role"


class UnknownUser(InvalidRequest):
    code = "unknown_user"


class GrantTooLong(InvalidRequest):
    code = "grant_too_long"


class RoleNotGrantable(InvalidRequest):
    code = "role_not_grantable"


class StartsInPast(InvalidRequest):
    code = "starts_at_in_past"


class CodeMismatch(InvalidRequest):
    code = "code_mismatch"


class InvalidWebAuthn(InvalidRequest):
    code = "webauthn_invalid"


class AlreadyEnrolled(InvalidRequest):
    code = "already_enrolled"


class InvalidCustomerId(InvalidRequest):
    code = "invalid_customer_id"


class UnknownPurpose(InvalidRequest):
    code = "unknown_purpose"


class ConsentNotNeeded(InvalidRequest):
    code = "consent_not_needed"


class InvalidConsent(InvalidRequest):
    code = "invalid_consent"


class NotFound(GuardianError):
    code = "not_found"


class GrantNotFound(NotFound):
    code = "grant_not_found"


class Conflict(GuardianError):
    code = "conflict"


class GrantAlreadyRevoked(Conflict):
    code = "grant_already_revoked"


class PolicyError(GuardianError):
    code = "policy_error"


@dataclass(frozen=True, slots=True)
class LintFinding:
    """One problem in a policy file, located precisely enough to fix it."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class PolicyLintError(PolicyError):
    code = "policy_lint_error"

    def __init__(self, findings: Sequence[LintFinding]) -> None:
        self.findings = tuple(findings)
        super().__init__("; ".join(str(f) for f in self.findings) or "policy is invalid")


class AuthenticationError(GuardianError):
    code = "authentication_failed"


class InvalidCredentials(AuthenticationError):
    code = "invalid_credentials"


class AccountLocked(AuthenticationError):
    code = "account_locked"


class InvalidToken(AuthenticationError):
    code = "invalid_token"


class InvalidApiKey(AuthenticationError):
    code = "invalid_api_key"


class PermissionDenied(GuardianError):
    code = "forbidden"


class RoleRequired(PermissionDenied):
    code = "role_required"


class FreshMfaRequired(PermissionDenied):
    code = "fresh_mfa_required"


class SelfGrantForbidden(PermissionDenied):
    code = "self_grant_forbidden"


class ScopeRequired(PermissionDenied):
    code = "scope_required"


class CsrfRejected(PermissionDenied):
    """A console form or htmx request without the CSRF token of the browser that sent it."""

    code = "csrf_token_invalid"


class StoreUnavailable(GuardianError):
    code = "store_unavailable"


class DirectoryUnavailable(GuardianError):
    code = "directory_unavailable"


class AuditError(GuardianError):
    code = "audit_error"


class AuditUnavailable(AuditError):
    code = "audit_unavailable"


class AuditIndexUnavailable(AuditError):
    """The audit index (OpenSearch or SQLite) cannot be reached or refused the whole request;
    decisions go on (the journal keeps everything), searches and reports cannot."""

    code = "audit_index_unavailable"


class WitnessUnavailable(AuditError):
    """The checkpoint witness (webhook) could not be reached or refused a delivery; decisions
    go on, the delivery is retried and counted."""

    code = "audit_witness_unavailable"


class ChainBroken(AuditError):
    code = "chain_broken"


class ReportRendererUnavailable(GuardianError):
    """The PDF renderer (WeasyPrint and its Pango libraries) is missing or failed on a page;
    the other formats of the report still work."""

    code = "report_renderer_unavailable"


class DeliveryFailed(GuardianError):
    """A mail (SMTP) or webhook delivery was not accepted; scheduled deliveries retry."""

    code = "delivery_failed"


class JustificationRequired(InvalidRequest):
    code = "justification_required"


class DefinitionNotFound(NotFound):
    code = "definition_not_found"


class CampaignNotFound(NotFound):
    code = "campaign_not_found"


class ItemNotFound(NotFound):
    code = "item_not_found"


class StageClosed(Conflict):
    code = "stage_closed"


class CampaignStateConflict(Conflict):
    code = "campaign_state"


class NotYourItem(PermissionDenied):
    code = "not_your_item"


class NotIndependent(PermissionDenied):
    code = "not_independent"


class ReviewerIneligible(InvalidRequest):
    code = "reviewer_ineligible"


class NotSignedIn(AuthenticationError):
    """A server runs (it holds the journal), and the command line has no valid session for it."""

    code = "not_signed_in"


class ServerUnreachable(GuardianError):
    code = "server_unreachable"


class ServerRefused(GuardianError):
    """The server answered with an error: its code and message, passed on as they were."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class PolicyTestsFailed(PolicyError):
    """A candidate policy lints clean but some of its test cases get another decision."""

    code = "policy_tests_failed"

    def __init__(self, failures: Sequence[str]) -> None:
        self.failures = tuple(failures)
        super().__init__("; ".join(self.failures) or "the policy tests failed")


class PolicyUnchanged(Conflict):
    code = "policy_unchanged"


class PolicyConflict(Conflict):
    """Another policy was applied meanwhile (by another replica): look at it, then retry."""

    code = "policy_conflict"


class DirectoryWriteFailed(GuardianError):
    """The directory refused or could not take a change Guardian asked for (the LDAP write
    account's removal of a revoked membership); the clock retries it."""

    code = "directory_write_failed"
