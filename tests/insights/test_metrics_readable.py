"""The loop metrics page reads as people talk (issue 18, "Readable metrics"):
groups by their names, not their slugs; every cell labelled for the phone's
cards; and loop metrics over time as server-side SVG charts whose points
carry their n."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from cases import services
from cases.models import Case, FollowUp
from feedback.services import feedback_ingest
from tests.cases import conftest as cases_fixtures

pytestmark = pytest.mark.django_db
make_case = cases_fixtures.make_case  # the cases tests' fixture

ROW_HEADER = re.compile(r'<th scope="row">\s*(.*?)\s*</th>', re.S)
CHART = re.compile(r'<svg class="chart line-chart".*?</svg>', re.S)


def page(client, user, **query) -> str:
    client.force_login(user)
    response = client.get("/cases/metrics/", query)
    assert response.status_code == 200
    return response.content.decode()


def row_headers(html: str) -> list[str]:
    return ROW_HEADER.findall(html)


def charts(html: str) -> dict[str, str]:
    """Each line chart of the page by its accessible name (its <title>)."""
    found = {}
    for svg in CHART.findall(html):
        [title] = re.findall(r'<title id="chart-\d+-t">(.*?)</title>', svg)
        found[title] = svg
    return found


def point_tips(svg: str) -> list[str]:
    """The tooltip of each point drawn, in order."""
    return re.findall(r"<circle [^>]*><title>(.*?)</title></circle>", svg)


def week_label(when) -> str:
    """How a chart labels the week (from Monday) of `when`, worked out by hand."""
    day = timezone.localtime(when).date()
    monday = day - timedelta(days=day.weekday())
    return f"{monday.day} {monday:%b}"


@pytest.fixture
def named_cases(make_case, agent, lead, root_cause, stage, other_team, django_capture_on_commit_callbacks):
    """Cases at fault-line (team care, owner agent "Sam Agent") and at a
    second touchpoint also called "Fault line", of team stores."""
    from django.contrib.auth import get_user_model

    from journeys.models import Touchpoint

    agent.first_name, agent.last_name = "Sam", "Agent"
    agent.save(update_fields=["first_name", "last_name"])
    store_agent = get_user_model().objects.create_user("store_agent")
    other_team.members.add(store_agent)
    Touchpoint.objects.create(
        stage=stage, name="Fault line", slug="fault-line-2", channel="phone", team=other_team, default_owner=store_agent
    )
    for touchpoint in ("fault-line", "fault-line", "fault-line-2"):
        case = make_case(touchpoint=touchpoint)
        services.case_log_contact(case_id=case.pk, actor=case.owner, channel="phone", note="Called")
        services.case_resolve(case_id=case.pk, actor=case.owner, root_cause=root_cause, note="Fixed")
    return Case.objects.all()


@pytest.mark.parametrize(
    ("group_by", "names", "slugs"),
    [
        ("team", ["Customer care", "Stores"], ["care", "stores"]),
        ("journey", ["Get connected"], ["get-connected"]),
        ("owner", ["Sam Agent", "store_agent"], ["agent"]),
        ("root_cause", ["Line fault"], []),
    ],
)
def test_groups_are_shown_by_name_not_slug(client, cx_admin, named_cases, group_by, names, slugs):
    headers = row_headers(page(client, cx_admin, group_by=group_by))
    assert sorted(headers) == sorted(names)
    assert not set(headers) & set(slugs)


def test_two_touchpoints_of_one_name_keep_their_slug_beside_it(client, cx_admin, named_cases):
    headers = row_headers(page(client, cx_admin, group_by="touchpoint"))
    assert sorted(headers) == ["Fault line (fault-line)", "Fault line (fault-line-2)"]


def test_a_lead_sees_only_the_names_of_their_teams_groups(client, lead, named_cases):
    html = page(client, lead, group_by="team")
    assert row_headers(html) == ["Customer care"]
    assert "Stores" not in html


def test_the_api_keeps_the_slugs(api, cx_admin, named_cases):
    rows = api(cx_admin).get("/api/v1/metrics/", {"group_by": "team"}).json()["loop"]
    assert sorted(row["group"] for row in rows) == ["care", "stores"]


def test_every_cell_carries_its_column_label_for_the_phone_cards(client, cx_admin, named_cases):
    html = page(client, cx_admin, group_by="team", period="month")
    [head] = re.findall(r"<thead>(.*?)</thead>", html, re.S)
    columns = re.findall(r'<th scope="col">(.*?)</th>', head)
    assert columns[:2] == ["Team", "Month"] and "FCR %" in columns and "Recovery %" in columns
    [body] = re.findall(r"<tbody>(.*?)</tbody>", html, re.S)
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        labels = re.findall(r'<td data-label="([^"]*)"', row)
        assert labels == columns[1:]  # the first column is the row's (card's) heading


def test_figures_are_qualified_by_their_n_in_the_cell(client, cx_admin, named_cases):
    html = page(client, cx_admin)
    [fcr_cell] = re.findall(r'<td data-label="FCR %">(.*?)</td>', html, re.S)
    # Three resolutions today: none is decidable yet (CVX_FCR_REPEAT_DAYS after).
    assert fcr_cell.startswith("—") and '<span class="detail">n 0</span>' in fcr_cell
    assert '<span class="detail">3 not yet decidable</span>' in fcr_cell
    # A count of exceptions only when there are some: none was resolved as unreachable.
    [resolved_cell] = re.findall(r'<td data-label="Resolved">(.*?)</td>', html, re.S)
    assert resolved_cell == "3"


@pytest.fixture
def weekly_cases(make_case, agent, root_cause, settings, django_capture_on_commit_callbacks):
    """Three cases opened 5 weeks, 2 weeks and 0 weeks ago. The first two
    were contacted (12 and 20 minutes) and resolved the next day within their
    SLA; the first case's customer answered the follow-up as a promoter."""
    settings.CVX_FCR_REPEAT_DAYS = 7
    settings.CVX_MIN_RESPONSES = 2
    now = timezone.now()
    opened = {}
    for weeks, minutes in ((5, 12), (2, 20), (0, None)):
        case = make_case()
        created = now - timedelta(weeks=weeks, hours=30 if weeks else 1)
        if minutes:
            services.case_log_contact(
                case_id=case.pk, actor=agent, channel="phone", note="Called", handling_minutes=minutes
            )
            services.case_resolve(case_id=case.pk, actor=agent, root_cause=root_cause, note="Fixed")
        Case.objects.filter(pk=case.pk).update(
            created_at=created,
            first_contact_at=created + timedelta(hours=1) if minutes else None,
            resolved_at=created + timedelta(hours=20) if minutes else None,
        )
        opened[weeks] = created
    follow = FollowUp.objects.select_related("invitation").get(case__created_at=opened[5])
    with django_capture_on_commit_callbacks(execute=True):
        outcome = feedback_ingest(
            item={
                "touchpoint": "fault-line",
                "source": "follow_up",
                "external_id": "answer-1",
                "nps": 10,
                "customer": {"email": follow.invitation.email},
            },
            invitation=follow.invitation,
        )
    assert outcome.status == "created", outcome.errors
    return opened


def test_loop_metrics_over_time_are_charts_with_a_point_per_week_and_its_n(client, lead, weekly_cases):
    drawn = charts(page(client, lead))
    assert sorted(drawn) == [
        "AHT per contact, minutes per week, last 26",
        "FCR % per week, last 26",
        "Recovery % per week, last 26",
        "SLA met % per week, last 26",
    ]
    five, two = week_label(weekly_cases[5]), week_label(weekly_cases[2])
    # Two resolved weeks (one case each, which is fewer than CVX_MIN_RESPONSES = 2); this week's case is open.
    assert point_tips(drawn["SLA met % per week, last 26"]) == [
        f"{five}: 100% (n = 1, few responses)",
        f"{two}: 100% (n = 1, few responses)",
    ]
    # FCR: 1.96 * sqrt(1 * 0 / 1) * 100 = 0 points of margin.
    assert point_tips(drawn["FCR % per week, last 26"]) == [
        f"{five}: 100% ± 0% (n = 1, few responses)",
        f"{two}: 100% ± 0% (n = 1, few responses)",
    ]
    # AHT: one timed contact a week, no margin from one value; the axis from 0 to 20 in quarters.
    aht = drawn["AHT per contact, minutes per week, last 26"]
    assert point_tips(aht) == [f"{five}: 12 (n = 1, few responses)", f"{two}: 20 (n = 1, few responses)"]
    assert re.findall(r'text-anchor="end" fill="#5b6475">(.*?)</text>', aht) == ["0", "5", "10", "15", "20"]
    # Only the first case's follow-up was answered, by a promoter.
    assert point_tips(drawn["Recovery % per week, last 26"]) == [f"{five}: 100% ± 0% (n = 1, few responses)"]
    assert all(svg.count("<polyline") == 0 for svg in drawn.values())  # weeks apart: no line joins them


def test_the_charts_follow_the_chosen_range_and_period(client, lead, weekly_cases):
    since = (timezone.localtime(weekly_cases[2]) - timedelta(days=1)).date()
    drawn = charts(page(client, lead, since=since.isoformat()))
    # From the week of `since` to this week: three or four weeks, depending on the weekday of `since`.
    [sla] = [svg for title, svg in drawn.items() if title.startswith("SLA met % per week, last ")]
    assert point_tips(sla) == [f"{week_label(weekly_cases[2])}: 100% (n = 1, few responses)"]
    monthly = charts(page(client, lead, period="month"))
    assert "SLA met % per month, last 26" in monthly


def test_no_charts_when_the_query_is_invalid(client, lead, weekly_cases):
    html = page(client, lead, period="year")
    assert "is not a valid choice" in html and not charts(html)


def test_nice_ceiling_rounds_an_axis_top_up():
    from cases.insights.charts import nice_ceiling

    assert [nice_ceiling(v) for v in (0, 0.3, 1, 3, 4.5, 9, 10, 17, 250)] == [1, 0.4, 1, 4, 8, 10, 10, 20, 400]


def test_axis_ticks_read_as_the_quarters_they_are():
    from cases.insights.charts import Sample, line_chart

    svg = line_chart([("w1", 0.0), ("w2", 0.0)], y_min=0, y_max=1, title="AHT", samples=[Sample(1, None, True)] * 2)
    labels = re.findall(r'text-anchor="end"[^>]*>([^<]*)<', svg)
    assert labels == ["0", "0.25", "0.5", "0.75", "1"], labels
