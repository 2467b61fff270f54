"""The loop metrics page in Chromium (issue 18, "Readable metrics" and the
browser part of "Done when"): a team lead reads the table by names, at a
laptop's 1366 px and a phone's 390 px. At neither width may the page scroll
sideways; on the laptop a wide table scrolls inside its own frame with the
names' column in view, on the phone each row is a card of labelled values;
the loop metrics over time are charts.

The pillars page (tests/browser/test_pillars_page.py reads a journey's) is
shot here for a team and a touchpoint of a long name, at both widths.

Screenshots go to artifacts/screenshots/metrics-*.png and pillars-team.png,
pillars-touchpoint.png (desktop), each with a -phone.png beside it, as the
walk-through's do."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser.test_case_flow import SCREENSHOTS, expect, log_in

pytestmark = [
    # The live server sees only committed data; see test_case_flow.py.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("pg_audit_cleanup"),
]

WIDTHS = {"": {"width": 1366, "height": 768}, "-phone": {"width": 390, "height": 844}}
CHARTS = ("SLA met %", "FCR %", "AHT per contact, minutes", "Recovery %")


def shoot(page, name: str) -> None:
    """Full-page screenshots at both widths; neither may scroll sideways."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for suffix, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name}{suffix}: the page is {width} px wide"
        page.screenshot(path=str(SCREENSHOTS / f"{name}{suffix}.png"), full_page=True)
    page.set_viewport_size(WIDTHS[""])


@pytest.fixture
def history(make_case, agent, lead, root_cause, stage, team):
    """Cases over ten weeks at three touchpoints of the lead's team, with
    long names, some contacted (timed) and resolved."""
    from cases import services
    from cases.models import Case
    from journeys.models import Touchpoint

    agent.first_name, agent.last_name = "Samantha", "Okonkwo-Vasquez"
    agent.save(update_fields=["first_name", "last_name"])
    for slug, name in (("billing-portal", "Billing portal and payment questions"), ("engineer", "Engineer visit")):
        Touchpoint.objects.create(stage=stage, name=name, slug=slug, channel="web", team=team, default_owner=agent)
    now = timezone.now()
    for n in range(18):
        case = make_case(touchpoint=("fault-line", "billing-portal", "engineer")[n % 3])
        if n % 4:
            services.case_log_contact(
                case_id=case.pk, actor=agent, channel="phone", note="Called", handling_minutes=5 + n
            )
            services.case_resolve(case_id=case.pk, actor=agent, root_cause=root_cause, note="Fixed")
        created = now - timedelta(weeks=n % 10, hours=30)
        Case.objects.filter(pk=case.pk).update(
            created_at=created,
            first_contact_at=created + timedelta(hours=2) if n % 4 else None,
            resolved_at=created + timedelta(hours=20) if n % 4 else None,
        )
    return now


def frame_of(page):
    return page.get_by_role("region", name="Loop metrics", exact=False)


def test_a_lead_reads_the_loop_metrics_by_name_at_laptop_and_phone_widths(page, live_server, lead, history):
    page.set_viewport_size(WIDTHS[""])
    log_in(page, live_server, lead)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Loop metrics").click()
    expect(page.get_by_role("heading", name="Loop metrics", exact=True)).to_be_visible()
    for name in CHARTS:
        expect(page.get_by_role("img", name=f"{name} per week, last 26")).to_be_visible()
    shoot(page, "metrics-all")

    # By touchpoint: the names, never the slugs; the table fits the laptop's width.
    page.get_by_label("Group by", exact=True).select_option("touchpoint")
    page.get_by_role("button", name="Show").click()
    table = frame_of(page).get_by_role("table")
    rows = table.locator("tbody th[scope=row]")
    expect(rows).to_have_text(["Billing portal and payment questions", "Engineer visit", "Fault line"])
    expect(table).not_to_contain_text("billing-portal")
    widths = frame_of(page).evaluate("frame => [frame.scrollWidth, frame.clientWidth]")
    assert widths[0] <= widths[1], f"grouped by touchpoint, the table ({widths[0]} px) should fit its {widths[1]} px"
    shoot(page, "metrics-touchpoint")

    # By owner and week, the widest table: it may scroll, in its own frame, the names staying in view.
    page.get_by_label("Group by", exact=True).select_option("owner")
    page.get_by_label("Period", exact=True).select_option("week")
    page.get_by_role("button", name="Show").click()
    expect(frame_of(page).locator("tbody th[scope=row]").first).to_have_text("Samantha Okonkwo-Vasquez")
    frame_left = frame_of(page).evaluate("frame => frame.getBoundingClientRect().left")
    frame_of(page).evaluate("frame => { frame.scrollLeft = frame.scrollWidth; }")
    name_left = frame_of(page).locator("tbody th[scope=row]").first.evaluate("th => th.getBoundingClientRect().left")
    assert abs(name_left - frame_left) <= 2, "the names' column stays in view when the table scrolls"
    frame_of(page).evaluate("frame => { frame.scrollLeft = 0; }")
    shoot(page, "metrics-owner-week")

    # On a phone each row is a card: no header row, every value under its label.
    page.set_viewport_size(WIDTHS["-phone"])
    expect(frame_of(page).locator("thead")).to_be_hidden()
    first = frame_of(page).locator("tbody tr").first
    assert first.evaluate("tr => getComputedStyle(tr).display") == "grid"
    labels = first.locator("td").evaluate_all(
        "cells => cells.map(td => getComputedStyle(td, '::before').content.replace(/^\"|\"$/g, ''))"
    )
    assert labels[:3] == ["Week", "Cases", "Resolved"] and "FCR %" in labels and "Recovery %" in labels
    page.set_viewport_size(WIDTHS[""])


def test_a_lead_reads_the_pillars_of_a_team_and_a_touchpoint_at_both_widths(page, live_server, lead, history):
    page.set_viewport_size(WIDTHS[""])
    log_in(page, live_server, lead)
    for query, heading, name in (
        ("team=care", "Customer care", "pillars-team"),
        ("touchpoint=billing-portal", "Billing portal and payment questions", "pillars-touchpoint"),
    ):
        page.goto(f"{live_server.url}/cases/insights/pillars/?{query}")
        expect(page.get_by_role("heading", name="Loyalty pillars")).to_be_visible()
        expect(page.locator("main")).to_contain_text(heading)
        pillars = page.locator("#pillars")
        for pillar in ("CSAT", "FCR", "CES", "VES", "NPS"):
            expect(pillars.get_by_role("rowheader", name=pillar, exact=False)).to_be_visible()
        shoot(page, name)
