"""The customer access report as HTML: one self-contained page (no script, no outside
resource), every value from the trail escaped, refused attempts and consent shown only when
there are some."""

from __future__ import annotations

from guardian.governance.consent_records import ConsentChange, CustomerConsents
from guardian.reports.customer_access import Access, CustomerAccessReport, PersonSummary
from guardian.reports.render import customer_report_html

AT = 1_790_000_000.0


def _access(user: str, decision: str = "permit", reasons: tuple[str, ...] = ()) -> Access:
    return Access("2026-09-21T14:13:20Z", user, ("agent",), "crm", "read", "crm", "contact",
                  "support", "REQ-1 <b>call</b>", decision, reasons, "dec-1", 1)


def _report(**changes: object) -> CustomerAccessReport:
    base: dict[str, object] = {
        "customer_id": "C-<1>", "period_from": None, "period_to": "2026-10-01",
        "generated_at": "2026-10-01T00:00:00Z",
        "accesses": (_access("<script>alert(1)</script>"),), "refused": (),
        "people": (PersonSummary("<script>alert(1)</script>", 1, ("contact",), ("support",),
                                 "2026-09-21T14:13:20Z", "2026-09-21T14:13:20Z"),)}
    return CustomerAccessReport(**{**base, **changes})  # type: ignore[arg-type]


def test_values_from_the_trail_are_escaped_never_inserted_raw() -> None:
    page = customer_report_html(_report())
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "C-&lt;1&gt;" in page and "REQ-1 &lt;b&gt;call&lt;/b&gt;" in page
    assert "<b>" not in page


def test_the_page_is_self_contained_and_says_what_it_covers() -> None:
    page = customer_report_html(_report())
    assert page.startswith("<!doctype html>") and page.endswith("</body></html>")
    assert "src=" not in page and "href=" not in page and "<script" not in page
    assert "Period: the beginning to 2026-10-01." in page
    assert "1 access(es) by 1 person(s)." in page and "<h2>Accesses (1)</h2>" in page
    assert "crm/contact" in page and "Refused attempts" not in page
    assert "<h2>Consent</h2>" not in page


def test_refused_attempts_are_listed_with_their_reasons() -> None:
    refused = (_access("bob", "deny", ("no_rule", "consent_missing")),)
    page = customer_report_html(_report(refused=refused, period_from="2026-09-01",
                                        period_to=None))
    assert "<h2>Refused attempts (1)</h2>" in page and "no data was disclosed" in page
    assert "<td>no_rule, consent_missing</td>" in page
    assert "Period: 2026-09-01 to now." in page


def test_consent_state_and_history_are_shown_when_known() -> None:
    change = ConsentChange("C-1", "marketing", False, AT, "call-centre", "crm", "key-1", AT)
    consent = CustomerConsents("C-1", ("marketing", "analytics"), (change,))
    page = customer_report_html(_report(consent=consent))
    assert "<h2>Consent</h2>" in page and "<h2>Consent history (1)</h2>" in page
    assert "<td>marketing</td><td>no</td><td>2026-09-21T14:13:20Z</td><td>call-centre</td>" \
        in page
    assert "<td>analytics</td><td>no</td><td></td><td></td>" in page
    assert "<td>key-1</td>" in page
