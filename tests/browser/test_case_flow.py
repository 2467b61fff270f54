"""Browser tests: Playwright drives Debian's headless Chromium against a live
test server. A frontline user works a case from queue to resolution, an
outsider cannot open it, a lead reassigns one, and a manager finds the events
in the audit trail and exports them.

Screenshots of the queue (desktop and phone width), the case page and the
audit page are written to artifacts/screenshots/.

The fixtures `chromium` and `page` (and `pg_audit_cleanup`) come from
tests/conftest.py; the live server thread sees the test's data only through
committed transactions, hence transactional tests."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.conftest import _make_user

pytestmark = [
    # The live server sees only committed data. Serialized rollback restores
    # the roles and permissions that migrations created, which the flush
    # after each test wipes.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("pg_audit_cleanup"),
]

PASSWORD = "a-Long-test-passw0rd"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def log_in(page, live_server, user) -> None:
    """Through the real login page, as a person would."""
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("heading", name="Log in to CVX")).to_be_visible()
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.get_by_role("banner").get_by_text(user.get_username(), exact=True)).to_be_visible()


def action(page, label: str):
    """Open the case page's <details> action `label` by its summary; return it."""
    details = page.locator("details.action").filter(has=page.locator("summary", has_text=label))
    details.locator("summary").click()
    expect(details).to_have_attribute("open", "")
    return details


def event_kinds(case, **filters) -> list[str]:
    return list(case.events.filter(**filters).order_by("seq").values_list("kind", flat=True))


def test_frontline_user_contacts_and_resolves_a_case(page, live_server, agent, make_case, root_cause, screenshots):
    case = make_case(comment="The line dropped again during my video call")

    log_in(page, live_server, agent)

    # The queue: theirs, styled (the stylesheet is served and applied).
    expect(page.get_by_role("heading", name="My queue")).to_be_visible()
    assert page.request.get(f"{live_server.url}/static/cvx/cvx.css").status == 200
    header_bg = page.locator("header.top").evaluate("e => getComputedStyle(e).backgroundColor")
    assert header_bg == "rgb(16, 42, 67)", "cvx.css is not applied to the page"
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=case.number))
    expect(row).to_contain_text("New")
    expect(row).to_contain_text("Fault line")
    expect(row).to_contain_text("agent")
    page.screenshot(path=str(screenshots / "queue.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(screenshots / "queue-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # The case page: what the customer said.
    page.get_by_role("link", name=case.number).click()
    expect(page.get_by_role("heading", name=case.number)).to_be_visible()
    expect(page.get_by_role("region", name="What the customer said")).to_contain_text(
        "The line dropped again during my video call"
    )

    # Log the contact.
    contact = action(page, "Log contact")
    contact.get_by_label("Channel").select_option(label="Phone")
    contact.get_by_label("What was agreed").fill("Called back; an engineer visits on Friday.")
    contact.get_by_role("button", name="Log contact").click()
    expect(page.get_by_role("status")).to_contain_text(f"{case.number}: log contact — done.")
    expect(page.locator(".case-head .badge").first).to_have_text("Contacted")
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline.get_by_role("listitem").filter(has_text="Contact logged by agent")).to_contain_text(
        "Called back; an engineer visits on Friday."
    )

    # Resolve it with a root cause.
    resolve = action(page, "Resolve")
    resolve.get_by_label("Root cause").select_option(label="Network › Line fault")
    resolve.get_by_label("Resolution summary").fill("Engineer replaced the faulty line card.")
    resolve.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status")).to_contain_text(f"{case.number}: resolve — done.")
    case.refresh_from_db()
    expect(page.locator(".case-head .badge").first).to_have_text(case.get_status_display())
    expect(page.locator(".facts")).to_contain_text("Network › Line fault")
    expect(timeline.get_by_role("listitem").filter(has_text="Resolved by agent")).to_contain_text(
        "Engineer replaced the faulty line card."
    )
    page.screenshot(path=str(screenshots / "case.png"), full_page=True)

    # The services ran: the audit trail has both events, by the agent.
    assert case.status in {"resolved", "awaiting_follow_up"}
    assert case.root_cause == root_cause
    assert event_kinds(case, actor=agent)[-2:] == ["case.contacted", "case.resolved"]
    resolved = case.events.get(kind="case.resolved")
    assert resolved.note == "Engineer replaced the faulty line card."
    assert case.events.get(kind="case.contacted").note == "Called back; an engineer visits on Friday."


def test_outsider_cannot_open_the_case(page, live_server, outsider, make_case):
    case = make_case(comment="Private words about my broken line")

    log_in(page, live_server, outsider)
    expect(page.get_by_role("link", name=case.number)).to_have_count(0)
    response = page.goto(f"{live_server.url}/cases/{case.pk}/")

    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    assert "Private words" not in page.content()
    assert case.number not in page.content()


def test_lead_reassigns_a_case(page, live_server, lead, agent, team, make_case):
    from journeys.roles import FRONTLINE

    colleague = _make_user("colleague", FRONTLINE)
    team.members.add(colleague)
    case = make_case()
    assert case.owner == agent

    log_in(page, live_server, lead)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="All cases").click()
    page.get_by_role("link", name=case.number).click()
    expect(page.get_by_role("heading", name=case.number)).to_be_visible()

    reassign = action(page, "Reassign")
    reassign.get_by_label("New owner").select_option(label="colleague")
    reassign.get_by_label("Note").fill("Agent is on leave this week.")
    reassign.get_by_role("button", name="Reassign").click()

    expect(page.get_by_role("status")).to_contain_text(f"{case.number}: reassign — done.")
    expect(page.locator(".facts")).to_contain_text("colleague")
    expect(
        page.get_by_role("region", name="Timeline")
        .get_by_role("listitem")
        .filter(has_text="Agent is on leave this week.")
    ).to_contain_text("owner: agent → colleague")
    case.refresh_from_db()
    assert case.owner == colleague
    assigned = case.events.filter(kind="case.assigned").order_by("seq").last()
    assert assigned.actor == lead
    assert assigned.note == "Agent is on leave this week."


def test_manager_finds_and_exports_the_events(page, live_server, lead, agent, make_case, root_cause, screenshots):
    from cases.services import case_transition

    case = make_case()
    other = make_case()
    case_transition(
        case_id=case.pk, actor=agent, action="log_contact", channel="email", note="Emailed an apology and a fix date."
    )
    case_transition(case_id=case.pk, actor=agent, action="resolve", root_cause=root_cause.pk, note="Line repaired.")

    log_in(page, live_server, lead)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    page.get_by_label("Case").fill(case.number)
    page.get_by_role("button", name="Filter").click()

    table = page.get_by_role("table")

    def event_row(kind_label: str):
        return table.get_by_role("row").filter(has=page.get_by_role("cell", name=kind_label, exact=True))

    expect(event_row("Contact logged")).to_contain_text("Emailed an apology and a fix date.")
    expect(event_row("Contact logged")).to_contain_text(case.number)
    expect(event_row("Contact logged")).to_contain_text("agent")
    expect(event_row("Resolved")).to_contain_text("Line repaired.")
    expect(table).not_to_contain_text(other.number)
    page.screenshot(path=str(screenshots / "audit.png"), full_page=True)

    with page.expect_download() as info:
        page.get_by_role("link", name="Export CSV").click()
    download = info.value
    assert download.suggested_filename == "cvx-audit-trail.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))

    assert rows[0] == ["case", "seq", "at", "kind", "actor", "changes", "note", "data", "prev_hash", "hash"]
    assert {r[0] for r in rows[1:]} == {case.number}
    by_kind = {r[3]: r for r in rows[1:]}
    assert {"case.contacted", "case.resolved"} <= set(by_kind)
    assert by_kind["case.contacted"][4] == "agent"
    assert by_kind["case.resolved"][6] == "Line repaired."
    assert len(rows) - 1 == case.events.count()


def test_a_long_unbroken_word_does_not_widen_the_pages(page, live_server, lead, agent, make_case):
    from cases.services import case_note

    word = "x" * 5000
    case = make_case(comment="y" * 4990)  # near the comment's limit, one word
    case_note(case_id=case.pk, actor=agent, note=word)
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, live_server, lead)
    for path in (f"/cases/{case.pk}/", "/cases/audit/", "/cases/queue/all/"):
        page.goto(f"{live_server.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1366, f"{path} is {width} px wide"
