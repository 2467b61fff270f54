"""The loyalty pillars side by side (CSAT, FCR, CES, VES, NPS per journey,
touchpoint and team, against the period before, and which moved most) and
scores and negative topics by value dimension (issue 18). The expected
figures are worked out by hand from the formulas, not by the code under test:
share margin 1.96 * sqrt(p (1 - p) / n) * 100, NPS margin
1.96 * sqrt((p_pro + p_det - (p_pro - p_det)^2) / n) * 100."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from cases import services
from cases.insights import pillars
from cases.models import Case
from feedback.choices import SentimentLabel
from feedback.lexicon import topic_save
from feedback.models import FeedbackResponse
from feedback.services import feedback_ingest_many
from feedback.summaries import rebuild_daily_scores
from journeys.models import Journey, Stage, Touchpoint
from tests.cases.conftest import make_case  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

BILL = "The bill is wrong again and I am angry"
QUEUE = "The queue was terrible, awful and slow"


def _ingest(touchpoint: str, items: list[dict], *, days_ago: int, prefix: str) -> None:
    at = (timezone.now() - timedelta(days=days_ago)).isoformat()
    rows = [
        {"touchpoint": touchpoint, "source": "survey", "external_id": f"{prefix}-{i}", "occurred_at": at, **item}
        for i, item in enumerate(items)
    ]
    outcomes = feedback_ingest_many(items=rows)
    assert {o.status for o in outcomes} == {"created"}, [o.errors for o in outcomes]


def _cases(make_case, agent, root_cause, contacts: list[int], *, days_ago: int) -> None:  # noqa: F811
    """Resolved cases at fault-line opened `days_ago` days ago, one per entry
    of `contacts` (how many contacts it had). Their opening feedback is long
    before both periods, so it is in neither period's scores."""
    old = (timezone.now() - timedelta(days=100)).isoformat()
    for count in contacts:
        case = make_case(occurred_at=old)
        for _ in range(count):
            services.case_log_contact(case_id=case.pk, actor=agent, channel="phone", note="x")
        services.case_resolve(case_id=case.pk, actor=agent, root_cause=root_cause, note="Done")
        opened = timezone.now() - timedelta(days=days_ago)
        Case.objects.filter(pk=case.pk).update(created_at=opened, resolved_at=opened + timedelta(hours=1))


@pytest.fixture
def world(settings, touchpoint, stage, team, other_team, make_case, agent, root_cause):  # noqa: F811
    """fault-line (team care; functional and experiential), shop (team
    stores, same journey; economic) and web-help (team care, another
    journey). The period is the last 10 UTC days, the previous one the 10
    before. At fault-line:
    - now: 20 answers, NPS 12 promoters + 8 passives, CSAT 16 of 20 at 4-5
      (4 of the others complain of the bill); 3 VES answers of 5; 2 cases,
      one resolved with one contact, one with two;
    - before: 20 answers, NPS 8 promoters + 12 passives, CSAT 10 of 20; 3 VES
      answers of 1; 1 case resolved with one contact.
    At shop, now: 10 CSAT answers of 5 and 2 comments on the queue. At
    web-help, now: 10 CSAT answers of 1."""
    settings.CVX_MIN_RESPONSES = 10
    settings.CVX_FCR_REPEAT_DAYS = 1
    topic_save(actor=None, name="Billing", phrases=["bill"])
    topic_save(actor=None, name="Queues", phrases=["queue"])
    Touchpoint.objects.filter(pk=touchpoint.pk).update(value_dimensions=["functional", "experiential"])
    Touchpoint.objects.create(
        stage=stage, name="Shop", slug="shop", channel="store", team=other_team, value_dimensions=["economic"]
    )
    other = Stage.objects.create(journey=Journey.objects.create(name="Move home", slug="move-home"), name="Ask")
    Touchpoint.objects.create(stage=other, name="Web help", slug="web-help", channel="web", team=team)

    now = [{"nps": 10 if i < 12 else 8, "csat": 5 if i < 16 else 2} for i in range(20)]
    for item in now[16:]:
        item["comment"] = BILL
    _ingest("fault-line", [*now, *[{"ves": 5}] * 3], days_ago=2, prefix="now")
    before = [{"nps": 10 if i < 8 else 8, "csat": 5 if i < 10 else 2} for i in range(20)]
    _ingest("fault-line", [*before, *[{"ves": 1}] * 3], days_ago=12, prefix="before")
    _ingest("shop", [{"csat": 5}] * 10 + [{"comment": QUEUE}] * 2, days_ago=2, prefix="shop")
    _ingest("web-help", [{"csat": 1}] * 10, days_ago=2, prefix="web")
    _cases(make_case, agent, root_cause, [1, 2], days_ago=3)
    _cases(make_case, agent, root_cause, [1], days_ago=13)
    rebuild_daily_scores()
    # The comments the topics are counted from read as negative.
    assert set(
        FeedbackResponse.objects.filter(comment__in=[BILL, QUEUE]).values_list("sentiment_label", flat=True)
    ) == {SentimentLabel.NEGATIVE}
    today = timezone.now().astimezone(UTC).date()
    return {"since": (today - timedelta(days=9)).isoformat(), "until": today.isoformat()}


def _by_key(reply: dict) -> dict:
    return {row["key"]: row for row in reply["pillars"]}


def _short(row: dict) -> tuple:
    return (row["value"], row["margin"], row["n"], row["few"], row["previous"], row["previous_margin"])


def test_touchpoint_pillars_against_hand_computed_figures(api, lead, world):
    reply = api(lead).get("/api/v1/pillars/", {"touchpoint": "fault-line", **world})
    assert reply.status_code == 200, reply.json()
    data = reply.json()
    assert (data["kind"], data["slug"], data["name"], data["min_responses"]) == (
        "touchpoint",
        "fault-line",
        "Fault line",
        10,
    )
    rows = _by_key(data)
    assert [row["key"] for row in data["pillars"]] == ["csat", "fcr", "ces", "ves", "nps"]
    # CSAT 16/20 = 80 (1.96 sqrt(.8 .2 / 20) = 17.5) against 10/20 = 50 (21.9): +30 > sqrt(17.5^2 + 21.9^2) = 28.03
    assert _short(rows["csat"]) == (80.0, 17.5, 20, False, 50.0, 21.9)
    assert (rows["csat"]["change"], rows["csat"]["clear"]) == (30.0, True)
    # FCR 1 of 2 decided (1.96 sqrt(.25 / 2) = 69.3) against 1 of 1: few cases, so no clear change.
    assert _short(rows["fcr"]) == (50.0, 69.3, 2, True, 100.0, 0.0)
    assert (rows["fcr"]["change"], rows["fcr"]["clear"]) == (-50.0, False)
    # No CES answers at all.
    assert _short(rows["ces"]) == (None, None, 0, True, None, None) and rows["ces"]["change"] is None
    # VES 3 of 3 enhanced against 0 of 3: the largest change, but from few answers.
    assert _short(rows["ves"]) == (100.0, 0.0, 3, True, 0.0, 0.0)
    assert (rows["ves"]["change"], rows["ves"]["clear"], rows["ves"]["mean"]) == (100.0, False, 5.0)
    # NPS 60 against 40, each 1.96 sqrt((.6 - .36) / 20) = 21.5: +20 < 30.4, not clear.
    assert _short(rows["nps"]) == (60.0, 21.5, 20, False, 40.0, 21.5)
    assert (rows["nps"]["change"], rows["nps"]["clear"]) == (20.0, False)
    assert data["moved_most"] == "csat"
    assert data["value_dimensions"] is None


def test_the_previous_period_is_the_one_of_equal_length_just_before(api, lead, world):
    data = api(lead).get("/api/v1/pillars/", {"touchpoint": "fault-line", **world}).json()
    today = timezone.now().astimezone(UTC).date()
    assert (data["previous_since"], data["previous_until"]) == (
        (today - timedelta(days=19)).isoformat(),
        (today - timedelta(days=10)).isoformat(),
    )
    # A period of 3 days ending 2 days ago holds "now" alone; the 3 days before it hold nothing.
    short = (
        api(lead)
        .get(
            "/api/v1/pillars/",
            {"touchpoint": "fault-line", "since": (today - timedelta(days=4)).isoformat(), "until": world["until"]},
        )
        .json()
    )
    assert (_by_key(short)["csat"]["value"], _by_key(short)["csat"]["previous"]) == (80.0, None)
    assert short["moved_most"] is None


def test_journey_pillars_count_only_the_touchpoints_the_user_may_see(api, lead, cx_admin, world):
    mine = _by_key(api(lead).get("/api/v1/pillars/", {"journey": "get-connected", **world}).json())
    assert _short(mine["csat"]) == (80.0, 17.5, 20, False, 50.0, 21.9)  # fault-line only: shop is another team's
    every = _by_key(api(cx_admin).get("/api/v1/pillars/", {"journey": "get-connected", **world}).json())
    # With shop's 10 of 10: 26/30 = 86.7, 1.96 sqrt(.8667 .1333 / 30) = 12.2; NPS unchanged (shop has none).
    assert _short(every["csat"]) == (86.7, 12.2, 30, False, 50.0, 21.9)
    assert _short(every["nps"]) == (60.0, 21.5, 20, False, 40.0, 21.5)
    assert (every["fcr"]["value"], every["fcr"]["n"]) == (50.0, 2)


def test_team_pillars_span_the_teams_touchpoints_in_every_journey(api, lead, world):
    data = api(lead).get("/api/v1/pillars/", {"team": "care", **world}).json()
    rows = _by_key(data)
    # fault-line 16/20 and web-help 0/10: 16/30 = 53.3, 1.96 sqrt(.5333 .4667 / 30) = 17.9
    assert (data["name"], _short(rows["csat"])) == ("Customer care", (53.3, 17.9, 30, False, 50.0, 21.9))
    assert (rows["fcr"]["value"], rows["fcr"]["n"], rows["fcr"]["previous_n"]) == (50.0, 2, 1)
    # +3.3 is well inside the combined margin: nothing moved clearly.
    assert rows["csat"]["clear"] is False and data["moved_most"] is None


def test_another_teams_pillars_are_not_found(api, lead, agent, outsider, cx_admin, world):
    for query in ({"team": "stores"}, {"touchpoint": "shop"}, {"team": "nobody"}, {"journey": "nowhere"}):
        assert api(lead).get("/api/v1/pillars/", {**query, **world}).status_code == 404, query
    assert api(outsider).get("/api/v1/pillars/", {"team": "care", **world}).status_code == 404
    assert api(outsider).get("/api/v1/pillars/", {"journey": "get-connected", **world}).status_code == 404
    assert api(agent).get("/api/v1/pillars/", {"team": "care", **world}).status_code == 200
    assert api(cx_admin).get("/api/v1/pillars/", {"team": "stores", **world}).status_code == 200
    assert api().get("/api/v1/pillars/", {"team": "care"}).status_code in (401, 403)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "journey"),
        ({"journey": "get-connected", "touchpoint": "fault-line"}, "touchpoint"),
        ({"team": "care", "journey": "get-connected"}, "team"),
        ({"team": "not a slug!"}, "team"),
        ({"team": "care", "since": "2026-13-01"}, "since"),
        ({"team": "care", "since": "2026-05-02", "until": "2026-05-01"}, "until"),
        ({"team": "care", "since": "1900-01-01", "until": "1900-01-10"}, "since"),
        ({"team": "care", "include_drafts": "maybe"}, "include_drafts"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(api, lead, team, query, field):
    reply = api(lead).get("/api/v1/pillars/", query)
    assert reply.status_code == 400 and field in reply.json(), reply.json()


def _row(key: str, change: float, margins: tuple[float, float], n: int = 30) -> dict:
    spec = next(spec for spec in pillars.PILLARS if spec[0] == key)
    value_key, n_key, margin_key = spec[3]
    now = {value_key: 50.0 + change, n_key: n, margin_key: margins[0]}
    return pillars.pillar_row(spec, now, {value_key: 50.0, n_key: n, margin_key: margins[1]})


def test_moved_most_counts_only_a_change_above_the_combined_margin(settings):
    settings.CVX_MIN_RESPONSES = 30
    # Margins 3 and 4 combine to 5: a change of exactly 5 is not clear, 5.1 is.
    at = _row("nps", 5.0, (3.0, 4.0))
    above = _row("nps", 5.1, (3.0, 4.0))
    assert (at["clear"], above["clear"]) == (False, True)
    assert pillars.moved_most([_row("csat", 1.0, (3.0, 4.0)), at]) is None
    assert pillars.moved_most([_row("csat", 1.0, (3.0, 4.0)), above]) == "nps"
    # Of two clear changes the larger moved most, whatever its sign; a larger unclear one does not count.
    down = _row("csat", -8.0, (3.0, 4.0))
    unclear = _row("ves", 40.0, (30.0, 40.0))
    assert pillars.moved_most([down, above, unclear]) == "csat"
    # Enough responses on both sides, or no change is clear: n = min - 1.
    assert _row("fcr", 20.0, (3.0, 4.0), n=29)["clear"] is False
    assert _row("fcr", 20.0, (3.0, 4.0), n=30)["clear"] is True


def test_value_dimensions_of_a_journey(api, cx_admin, lead, world):
    data = api(cx_admin).get("/api/v1/pillars/", {"journey": "get-connected", **world}).json()
    dims = {row["dimension"]: row for row in data["value_dimensions"]}
    assert list(dims) == ["functional", "economic", "experiential", "symbolic"]
    # fault-line serves two dimensions and counts, whole, in both.
    for name in ("functional", "experiential"):
        row = dims[name]
        assert [tp["slug"] for tp in row["touchpoints"]] == ["fault-line"]
        assert (row["responses"], row["nps"], row["nps_margin"], row["nps_n"]) == (23, 60.0, 21.5, 20)
        assert (row["csat"], row["csat_margin"], row["csat_n"], row["csat_few"]) == (80.0, 17.5, 20, False)
        assert (row["ves"], row["ves_n"], row["ves_few"], row["ves_mean"]) == (100.0, 3, True, 5.0)
        assert (row["ces"], row["ces_n"]) == (None, 0)
        assert row["topics"] == [{"topic": "Billing", "negative": 4}]
    economic = dims["economic"]
    assert [tp["slug"] for tp in economic["touchpoints"]] == ["shop"]
    assert (economic["responses"], economic["csat"], economic["csat_margin"], economic["csat_n"]) == (
        12,
        100.0,
        0.0,
        10,
    )
    assert economic["topics"] == [{"topic": "Queues", "negative": 2}]
    assert (dims["symbolic"]["touchpoints"], dims["symbolic"]["responses"], dims["symbolic"]["nps"]) == ([], 0, None)
    # A lead sees their own touchpoints' dimensions only.
    theirs = {
        row["dimension"]: row
        for row in api(lead).get("/api/v1/pillars/", {"journey": "get-connected", **world}).json()["value_dimensions"]
    }
    assert (theirs["economic"]["touchpoints"], theirs["economic"]["topics"], theirs["economic"]["csat"]) == (
        [],
        [],
        None,
    )


def test_the_page_shows_the_pillars_the_moved_most_and_the_dimensions(client, lead, world):
    client.force_login(lead)
    page = client.get("/cases/insights/pillars/", {"journey": "get-connected", **world})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Moved most: <b>CSAT</b>, up 30.0 from 50.0 to 80.0." in html
    assert 'id="value-dimensions"' in html and "Billing (4)" in html
    assert "80.0 ±17.5" in html and "50.0 ±21.9" in html
    quiet = client.get("/cases/insights/pillars/", {"team": "care", **world}).content.decode()
    assert "No clear change against the previous period." in quiet and 'id="value-dimensions"' not in quiet


def test_the_page_is_for_managers_and_their_teams(client, lead, agent, world):
    assert client.get("/cases/insights/pillars/", {"team": "care"}).status_code == 302  # log in first
    client.force_login(agent)
    assert client.get("/cases/insights/pillars/", {"team": "care"}).status_code == 403
    client.force_login(lead)
    assert client.get("/cases/insights/pillars/", {"team": "stores"}).status_code == 404
    bad = client.get("/cases/insights/pillars/", {"team": "care", "journey": "get-connected"})
    assert (
        bad.status_code == 400
        and "journey: " not in bad.content.decode()
        and "team: Give only one" in bad.content.decode()
    )


def test_the_pillars_are_linked_from_the_insight_pages(client, lead, world):
    client.force_login(lead)
    index = client.get("/cases/insights/").content.decode()
    assert 'href="/cases/insights/pillars/?journey=get-connected"' in index
    journey = client.get("/cases/insights/journeys/get-connected/").content.decode()
    assert 'href="/cases/insights/pillars/?journey=get-connected"' in journey
    touchpoint = client.get("/cases/insights/touchpoints/fault-line/").content.decode()
    assert 'href="/cases/insights/pillars/?touchpoint=fault-line"' in touchpoint


def test_the_csv_has_one_row_per_pillar(client, lead, world):
    import csv
    import io

    client.force_login(lead)
    reply = client.get("/cases/insights/pillars/", {"touchpoint": "fault-line", "download": "csv", **world})
    rows = list(csv.DictReader(io.StringIO(b"".join(reply.streaming_content).decode())))
    assert [row["pillar"] for row in rows] == ["CSAT", "FCR", "CES", "VES", "NPS"]
    csat = rows[0]
    assert (csat["subject"], csat["value"], csat["margin"], csat["n"], csat["previous"], csat["clear"]) == (
        "Fault line",
        "80.0",
        "17.5",
        "20",
        "50.0",
        "True",
    )
    assert [row["moved_most"] for row in rows] == ["True", "False", "False", "False", "False"]


def test_the_schema_documents_the_pillars(api, integration):
    schema = api(token=integration).get("/api/v1/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/pillars/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"journey", "touchpoint", "team", "since", "until"}
    reply = schema["components"]["schemas"]["PillarsReply"]["properties"]
    assert {"pillars", "moved_most", "value_dimensions", "previous_since"} <= set(reply)
    assert {"n", "margin", "few", "clear"} <= set(schema["components"]["schemas"]["Pillar"]["properties"])


def test_the_pillars_agree_with_the_metrics_api(api, cx_admin, world):
    """The same figures, read the same way: the metrics API's journey row."""
    pillar = _by_key(api(cx_admin).get("/api/v1/pillars/", {"journey": "get-connected", **world}).json())
    metrics = api(cx_admin).get("/api/v1/metrics/", {"group_by": "journey", **world}).json()
    scores = next(row for row in metrics["scores"] if row["group"] == "get-connected")
    loop = next(row for row in metrics["loop"] if row["group"] == "get-connected")
    assert (pillar["csat"]["value"], pillar["csat"]["margin"], pillar["csat"]["n"]) == (
        scores["csat_pct"],
        scores["csat_margin"],
        scores["csat_n"],
    )
    assert (pillar["nps"]["value"], pillar["nps"]["margin"]) == (scores["nps"], scores["nps_margin"])
    assert (pillar["ves"]["value"], pillar["ves"]["mean"]) == (scores["ves_enhanced_pct"], scores["ves"])
    assert (pillar["fcr"]["value"], pillar["fcr"]["n"], pillar["fcr"]["margin"]) == (
        loop["fcr"],
        loop["fcr_n"],
        loop["fcr_margin"],
    )


def test_a_draft_journey_counts_only_when_asked_for(api, lead, journey, world):
    Journey.objects.filter(pk=journey.pk).update(active=False)
    query = {"journey": "get-connected", **world}
    left_out = _by_key(api(lead).get("/api/v1/pillars/", query).json())
    assert (left_out["csat"]["value"], left_out["csat"]["n"], left_out["fcr"]["n"]) == (None, 0, 0)
    asked = _by_key(api(lead).get("/api/v1/pillars/", {**query, "include_drafts": "true"}).json())
    assert (asked["csat"]["value"], asked["csat"]["n"], asked["fcr"]["n"]) == (80.0, 20, 2)
