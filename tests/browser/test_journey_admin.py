"""A CX admin's day in the admin (issue 21): builds a journey without typing
a slug, copies it as a future-state draft, changes two touchpoints, reads the
design beside the current state and promotes it; creates a routing rule and
reads it in words with its counts; deactivates an agent with open cases.
Screenshots at 1366 px and at tablet width (820 px) go to
artifacts/screenshots/journey-admin-*; none may scroll sideways."""

from __future__ import annotations

import pytest

from tests.browser.test_case_flow import SCREENSHOTS, expect, log_in

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("pg_audit_cleanup"),
]

WIDTHS = {"desktop": 1366, "tablet": 820}


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{name} at {width} px: the page is {scroll_width} px wide"
        page.screenshot(path=str(SCREENSHOTS / f"journey-admin-{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


def choose_team(page, prefix: str, team_name: str) -> None:
    """The team field is an autocomplete (select2): open it, type, pick."""
    page.locator(f"#id_{prefix}-team + .select2 .select2-selection").click()
    page.locator(".select2-search__field").fill(team_name[:4])
    page.locator(".select2-results__option", has_text=team_name).click()


def test_cx_admin_builds_a_journey_copies_it_changes_the_design_and_promotes_it(
    page, live_server, cx_admin, team, other_team
):
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, live_server, cx_admin)
    page.goto(f"{live_server.url}/admin/journeys/journey/add/")
    page.locator("#id_name").press_sequentially("Fix a fault")  # typed: the slug follows on keyup
    expect(page.locator("#id_slug")).to_have_value("fix-a-fault")

    page.get_by_text("Add another Stage").click()
    page.locator("#id_stages-0-name").fill("Report")
    page.get_by_text("Add another Touchpoint").first.click()
    tp = "stages-0-touchpoints-0"
    page.locator(f"#id_{tp}-name").press_sequentially("Fault line")
    expect(page.locator(f"#id_{tp}-slug")).to_have_value("fault-line")
    page.locator(f"#id_{tp}-channel").select_option("call_center")
    page.locator(f"#id_{tp}-side").select_option("back")
    choose_team(page, tp, team.name)
    page.get_by_text("Add another Stage").click()
    page.locator("#id_stages-1-name").fill("Repair")
    page.get_by_text("Add another Touchpoint").nth(1).click()
    visit = "stages-1-touchpoints-0"
    page.locator(f"#id_{visit}-name").press_sequentially("Engineer visit")
    expect(page.locator(f"#id_{visit}-slug")).to_have_value("engineer-visit")
    page.locator(f"#id_{visit}-channel").select_option("field_visit")
    choose_team(page, visit, team.name)
    shoot(page, "new")

    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    expect(page.locator("input[name='stages-0-touchpoints-0-slug']")).to_have_value("fault-line")
    shoot(page, "saved")

    page.goto(f"{live_server.url}/admin/journeys/journey/")
    page.locator("input.action-select").first.check()
    page.locator("select[name='action']").select_option("copy_as_future_state")
    page.locator(".actions button[name='index']").click()
    expect(page.locator(".messagelist .success")).to_contain_text("Copied 1 journey")
    expect(page.get_by_role("link", name="Fix a fault — future state", exact=True)).to_be_visible()
    shoot(page, "copied")

    # The design: the fault line becomes a chat, the engineer visit goes to the stores team.
    page.get_by_role("link", name="Fix a fault — future state", exact=True).click()
    expect(page.locator(f"#id_{tp}-slug")).to_have_value("fault-line-future")
    page.locator(f"#id_{tp}-channel").select_option("chat")
    choose_team(page, visit, other_team.name)
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist .success")).to_be_visible()

    # Side by side, reached from the draft's page.
    page.get_by_role("link", name="Compare with current and promote").click()
    compare = page.locator("#journey-compare")
    expect(compare.get_by_text("Channel: Call center → Chat")).to_be_visible()
    expect(compare.get_by_text(f"Team: {team.name} → {other_team.name}")).to_be_visible()
    expect(compare.locator(".jd-current .jd-changed")).to_have_count(2)
    shoot(page, "compare")

    page.get_by_role("button", name="Promote to current state").click()
    expect(page.locator(".messagelist .success")).to_contain_text("“Fix a fault” is now the current state")
    shoot(page, "promoted")
    from journeys.models import Journey, Touchpoint

    promoted = Journey.objects.get(slug="fix-a-fault")
    assert (promoted.state, promoted.name) == ("current", "Fix a fault")
    assert Journey.objects.get(state="archived").slug == "fix-a-fault-archived"
    fault_line = Touchpoint.objects.get(slug="fault-line")
    assert (fault_line.channel, fault_line.stage.journey_id) == ("chat", promoted.pk)
    assert Touchpoint.objects.get(slug="engineer-visit").team == other_team


def test_cx_admin_creates_a_routing_rule_and_reads_its_conditions_and_counts(page, live_server, cx_admin, touchpoint):
    from cases.models import RoutingRule
    from tests.admin.conftest import ingest

    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, live_server, cx_admin)
    page.goto(f"{live_server.url}/admin/cases/routingrule/add/")
    page.locator("#id_name").fill("Detractors on the fault line")
    page.locator("#id_nps_at_most").fill("6")
    page.locator("#id_priority").select_option("high")
    shoot(page, "rule-new")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    rule = RoutingRule.objects.get(name="Detractors on the fault line")
    ingest(touchpoint=touchpoint, marker="walk", n=1, nps=2)  # routed: matched and opened a case
    page.reload()
    row = page.locator("#result_list tbody tr").filter(has=page.get_by_role("link", name=rule.name))
    expect(row.locator("td.field-conditions")).to_contain_text("NPS ≤ 6 on any journey, any channel → High")
    expect(row.locator("td.field-matched_7")).to_have_text("1")
    expect(row.locator("td.field-opened_30")).to_have_text("1")
    shoot(page, "rules")
    for width in WIDTHS.values():  # every column in view, not in the table's own scroll
        page.set_viewport_size({"width": width, "height": 900})
        last = row.locator("td.field-overlap").bounding_box()
        assert last["x"] + last["width"] <= width, f"the rule list's last column is cut off at {width} px"


def test_cx_admin_deactivates_an_agent_and_their_open_cases_go_to_a_teammate(
    page, live_server, cx_admin, team, agent, make_case
):
    from cases.models import Case
    from journeys.roles import FRONTLINE
    from tests.conftest import _make_user

    mate = _make_user("care_mate", FRONTLINE)
    team.members.add(mate)
    cases = [make_case(), make_case()]
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, live_server, cx_admin)
    page.goto(f"{live_server.url}/admin/auth/user/")
    page.locator(f"input.action-select[value='{agent.pk}']").check()
    page.locator("select[name='action']").select_option("deactivate_person")
    page.locator(".actions button[name='index']").click()
    for case in cases:
        expect(page.get_by_text(case.number)).to_be_visible()
    page.get_by_label(f"Who takes the cases of {team}").select_option(label=mate.username)
    page.get_by_label("Note").fill("Left the company")
    shoot(page, "deactivate")
    page.get_by_role("button", name=f"Deactivate {agent.username}").click()
    expect(page.locator(".messagelist .success")).to_contain_text("2 open case(s) were given to others")
    agent.refresh_from_db()
    assert agent.is_active is False
    assert set(Case.objects.filter(pk__in=[c.pk for c in cases]).values_list("owner", flat=True)) == {mate.pk}
