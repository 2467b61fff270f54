"""Pages and API show the same figures: for the same filters, the insight
pages and the metrics API give the same numbers to a team lead (who sees
one team's touchpoint of the journey) and to a CX admin (who sees both),
and refuse the same touchpoint. The pages read scores from the raw
responses, the API from the score summary; the loop metrics, the Pareto
and the chain of CX value come from the same query functions."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

from cases import services
from cases.models import Case, FollowUp, RootCause
from feedback.services import feedback_ingest
from feedback.summaries import rebuild_daily_scores

pytestmark = pytest.mark.django_db

LOOP_FILTERS = [
    {},
    {"group_by": "team"},
    {"group_by": "touchpoint", "period": "week"},
    {"group_by": "owner", "period": "month"},
    {"group_by": "root_cause"},
    {"group_by": "journey", "since": "days:-40", "until": "days:-10"},
]


def as_json(value):
    """What the API's JSON would hold for `value`."""
    return json.loads(json.dumps(value, cls=JSONEncoder))


def dated(filters: dict) -> dict:
    """`filters` with "days:N" replaced by the local date N days from today."""
    today = timezone.localdate()
    return {
        key: (today + timedelta(days=int(value[5:]))).isoformat() if value.startswith("days:") else value
        for key, value in filters.items()
    }


@pytest.fixture
def store(stage, other_team, other_agent):
    """A touchpoint of the same journey, owned by the other team."""
    from journeys.models import Touchpoint

    return Touchpoint.objects.create(
        stage=stage, name="Store", slug="store", channel="store", team=other_team, default_owner=other_agent, position=1
    )


@pytest.fixture
def history(detractor_rule, touchpoint, store, agent, other_agent, root_cause, settings):
    """Ten weeks of feedback at fault-line (the lead's team) and store (the
    other team) from a dozen returning customers; detractors open cases,
    most are contacted and resolved with a root cause, some follow-ups are
    answered. The score summary is rebuilt at the end."""
    from cases.services import response_route

    settings.CVX_REOPEN_NOT_RECOVERED = False
    causes = [root_cause, RootCause.objects.create(name="Billing")]
    rnd, now = random.Random(15), timezone.now()
    for n in range(60):
        where, owner = (store, other_agent) if n % 3 == 0 else (touchpoint, agent)
        occurred = now - timedelta(days=rnd.randint(0, 70), hours=rnd.randint(0, 23))
        outcome = feedback_ingest(
            item={
                "touchpoint": where.slug,
                "source": "survey",
                "external_id": f"agree-{n}",
                "customer": {"email": f"customer-{rnd.randint(1, 12)}@example.com"},
                "occurred_at": occurred.isoformat(),
                "nps": rnd.randint(0, 10),
                "csat": rnd.randint(1, 5),
                "ces": rnd.randint(1, 7),
                "comment": rnd.choice(["", "Great help", "Slow and rude, still broken"]),
            }
        )
        assert outcome.status == "created", outcome.errors
        response_route(response_id=outcome.response.pk)
        case = Case.objects.filter(feedback=outcome.response).first()
        if case is None:
            continue
        Case.objects.filter(pk=case.pk).update(created_at=min(occurred + timedelta(minutes=rnd.randint(1, 600)), now))
        contacted = rnd.random() < 0.8
        if contacted:
            services.case_log_contact(case_id=case.pk, actor=owner, channel="phone", note="Called back")
        if rnd.random() < 0.7:
            services.case_resolve(
                case_id=case.pk, actor=owner, root_cause=rnd.choice(causes), note=f"Fix {n}", unreachable=not contacted
            )
            follow = FollowUp.objects.select_related("invitation").filter(case=case).first()
            if follow and rnd.random() < 0.6:
                answer = feedback_ingest(
                    item={
                        "touchpoint": where.slug,
                        "source": "follow_up",
                        "external_id": f"agree-answer-{n}",
                        "customer": {"email": follow.invitation.email},
                        "nps": rnd.randint(0, 10),
                    },
                    invitation=follow.invitation,
                )
                assert answer.status == "created", answer.errors
                response_route(response_id=answer.response.pk)
    rebuild_daily_scores()
    return Case.objects.all()


@pytest.fixture(params=["lead", "cx_admin"])
def viewer(request, lead, cx_admin):
    return {"lead": lead, "cx_admin": cx_admin}[request.param]


def test_metrics_page_and_api_give_the_same_loop_rows(api, viewer, history):
    client = api(viewer)
    for filters in map(dated, LOOP_FILTERS):
        page = client.get("/cases/metrics/", filters)
        assert page.status_code == 200
        keys = [key for key, _label in page.context["columns"]]
        shown = [
            {"group": group, "period": period, **dict(zip(keys, values))}
            for group, period, values in page.context["table"]
        ]
        served = client.get("/api/v1/metrics/", filters)
        assert served.status_code == 200
        rows = [
            {"group": row.get("group"), "period": row.get("period"), **{key: row[key] for key in keys}}
            for row in served.json()["loop"]
        ]
        assert as_json(shown) == rows, filters
        assert sum(row["cases"] for row in rows) > 0, filters


def test_the_lead_sees_the_loop_rows_of_one_team_and_the_admin_of_both(api, lead, cx_admin, history):
    def teams(user) -> dict:
        return {
            row["group"]: row["cases"] for row in api(user).get("/api/v1/metrics/", {"group_by": "team"}).json()["loop"]
        }

    assert teams(lead).keys() == {"care"}
    assert teams(cx_admin).keys() == {"care", "stores"} and teams(cx_admin)["care"] == teams(lead)["care"]


def test_journey_and_touchpoint_pages_show_the_api_scores(api, viewer, history):
    client = api(viewer)
    pages = [
        ("/cases/insights/journeys/get-connected/", "journey", "get-connected"),
        ("/cases/insights/touchpoints/fault-line/", "touchpoint", "fault-line"),
    ]
    for page, group_by, slug in pages:
        for granularity in ("day", "week", "month"):
            shown = client.get(page, {"granularity": granularity})
            assert shown.status_code == 200
            series = shown.context["series"]
            served = client.get(
                "/api/v1/metrics/",
                {"group_by": group_by, "period": granularity, "since": series[0]["period"].isoformat()},
            )
            assert served.status_code == 200
            figures = list(series[0].keys() - {"period", "label"})
            on_page = {
                row["period"].isoformat(): {key: row[key] for key in figures} for row in series if row["responses"]
            }
            in_api = {
                row["period"]: {key: row[key] for key in figures}
                for row in served.json()["scores"]
                if row["group"] == slug
            }
            assert on_page == in_api and on_page, (page, granularity)


def test_the_lead_sees_the_journey_scores_of_their_touchpoint_only(api, lead, cx_admin, history):
    def responses(user) -> tuple[int, int]:
        series = api(user).get("/cases/insights/journeys/get-connected/").context["series"]
        [row] = (
            api(user).get("/api/v1/metrics/", {"group_by": "journey", "since": series[0]["period"]}).json()["scores"]
        )
        return sum(r["responses"] for r in series), row["responses"]

    lead_page, lead_api = responses(lead)
    admin_page, admin_api = responses(cx_admin)
    assert lead_page == lead_api and admin_page == admin_api
    assert 0 < lead_page < admin_page


def test_root_causes_page_and_api_give_the_same_pareto(api, viewer, history):
    client = api(viewer)
    for filters in map(dated, [{}, {"since": "days:-30", "until": "days:0"}, {"since": "days:-5"}]):
        page = client.get("/cases/insights/root-causes/", filters)
        assert page.status_code == 200 and not page.context["errors"]
        served = client.get(
            "/api/v1/metrics/root-causes/",
            {"since": page.context["since"].isoformat(), "until": page.context["until"].isoformat()},
        )
        assert served.status_code == 200
        assert as_json(page.context["rows"]) == served.json(), filters
        assert filters or sum(row["cases"] for row in served.json()) > 0


def test_touchpoint_page_and_api_give_the_same_value_chain(api, viewer, history):
    client = api(viewer)
    page = client.get("/cases/insights/touchpoints/fault-line/")
    served = client.get("/api/v1/metrics/touchpoints/fault-line/value-chain/")
    assert page.status_code == served.status_code == 200
    assert as_json(page.context["chain"]) == served.json()
    assert served.json()["customers"] > 0


def test_page_and_api_refuse_the_same_touchpoint(api, lead, cx_admin, history):
    page, chain = "/cases/insights/touchpoints/store/", "/api/v1/metrics/touchpoints/store/value-chain/"
    assert api(lead).get(page).status_code == api(lead).get(chain).status_code == 404
    assert api(cx_admin).get(page).status_code == api(cx_admin).get(chain).status_code == 200
