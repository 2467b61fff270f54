"""A CX admin builds a journey in the admin without typing a slug and copies
it as a future-state draft (issue 21). Screenshots of the journey page at
1366 px and at tablet width (820 px) go to artifacts/screenshots/journey-admin-*;
neither may scroll sideways."""

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


def test_cx_admin_builds_a_journey_without_typing_a_slug_and_copies_it(page, live_server, cx_admin, team):
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
