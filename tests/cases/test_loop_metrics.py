"""Loop metrics equal a plain Python computation over the same cases."""

from __future__ import annotations

import random
from datetime import timedelta
from statistics import mean

import pytest
from django.conf import settings
from django.utils import timezone

from cases import services
from cases.insights.loop import loop_metrics
from cases.models import Case, FollowUp
from cvx_site.db import percentile
from feedback.services import feedback_ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed_cases(make_case, agent, lead, root_cause, other_team, stage, django_capture_on_commit_callbacks):
    """Twelve cases in two teams, with known durations, contacts, breaches and follow-up answers."""
    from django.contrib.auth import get_user_model

    from journeys.models import Touchpoint

    other_owner = get_user_model().objects.create_user("store_agent")
    other_team.members.add(other_owner)
    Touchpoint.objects.create(
        stage=stage, name="Store", slug="store", channel="store", team=other_team, default_owner=other_owner
    )
    rnd, now = random.Random(5), timezone.now()
    for n in range(12):
        store = n % 3 == 0
        case = make_case(touchpoint="store" if store else "fault-line", nps=rnd.randint(0, 6), csat=rnd.randint(1, 2))
        owner = other_owner if store else agent
        contacts = rnd.randint(0, 2)
        for _ in range(contacts):
            services.case_log_contact(case_id=case.pk, actor=owner, channel="phone", note="called")
        if n % 4 != 3:
            # Without a contact, only as unreachable.
            services.case_resolve(
                case_id=case.pk, actor=owner, root_cause=root_cause, note="fixed", unreachable=not contacts
            )
        created = now - timedelta(hours=rnd.randint(30, 90))
        Case.objects.filter(pk=case.pk).update(
            created_at=created,
            first_contact_at=None
            if case.first_contact_at is None and not Case.objects.get(pk=case.pk).first_contact_at
            else created + timedelta(minutes=rnd.randint(10, 600)),
            resolved_at=None if n % 4 == 3 else created + timedelta(minutes=rnd.randint(700, 2000)),
            first_contact_breached_at=created + timedelta(hours=5) if n % 5 == 0 else None,
        )
    for follow in FollowUp.objects.select_related("invitation", "case__customer").order_by("pk")[:6]:
        nps = rnd.randint(0, 10)
        with django_capture_on_commit_callbacks(execute=True):
            feedback_ingest(
                item={
                    "touchpoint": "fault-line",
                    "source": "follow_up",
                    "external_id": f"inv-{follow.invitation_id}",
                    "nps": nps,
                    "customer": {"email": follow.invitation.email},
                },
                invitation=follow.invitation,
            )
    return Case.objects.all()


def expected_for(cases: list[Case]) -> dict:
    resolved = [c for c in cases if c.resolved_at]
    reached = [c for c in resolved if not c.unreachable]
    decided = [c for c in resolved if c.resolved_at <= timezone.now() - timedelta(days=settings.CVX_FCR_REPEAT_DAYS)]
    follow_ups = [f for c in cases for f in c.follow_ups.all()]
    answered = [f for f in follow_ups if f.answer_id]

    def hours(c, end):
        return (getattr(c, end) - c.created_at).total_seconds() / 3600

    contact = sorted(hours(c, "first_contact_at") for c in cases if c.first_contact_at)
    resolution = sorted(hours(c, "resolved_at") for c in resolved)

    def pct(a, b):
        return round(100.0 * a / b, 1) if b else None

    return {
        "cases": len(cases),
        "resolved": len(resolved),
        "unreachable": len(resolved) - len(reached),
        # An unreachable resolution meets neither the SLA nor first-contact resolution.
        "sla_met_pct": pct(
            sum(1 for c in reached if not c.first_contact_breached_at and not c.resolution_breached_at), len(resolved)
        ),
        # Each case is a new customer's with no later feedback but follow-up answers (never a repeat):
        # FCR is one contact, not unreachable, of the cases resolved long enough ago to tell.
        "fcr": pct(sum(1 for c in decided if not c.unreachable and c.contact_count == 1), len(decided)),
        "fcr_pending": len(resolved) - len(decided),
        "followed_up": len({f.case_id for f in follow_ups}),
        "responded": len({f.case_id for f in answered}),
        "recovered": len({f.case_id for f in answered if f.recovered}),
        "first_contact_median_h": round(percentile(contact, 0.5), 2) if contact else None,
        "first_contact_p90_h": round(percentile(contact, 0.9), 2) if contact else None,
        "resolution_median_h": round(percentile(resolution, 0.5), 2) if resolution else None,
        "resolution_p90_h": round(percentile(resolution, 0.9), 2) if resolution else None,
        "resolution_mean_h": round(mean(resolution), 2) if resolution else None,
        "nps_change": round(mean(f.answer.nps - f.case.feedback.nps for f in answered), 2) if answered else None,
    }


def test_loop_metrics_by_team_match_python(mixed_cases):
    rows = {row["group"]: row for row in loop_metrics(mixed_cases, group_by="team")}
    cases = list(mixed_cases.prefetch_related("follow_ups__answer", "follow_ups__case__feedback"))
    assert set(rows) == {"care", "stores"}
    for team in ("care", "stores"):
        expected = expected_for([c for c in cases if c.team.slug == team])
        got = {k: rows[team][k] for k in expected}
        assert got == pytest.approx(expected, abs=0.011), team


def test_loop_metrics_overall_and_recovery_rate(mixed_cases):
    [row] = loop_metrics(mixed_cases)
    cases = list(mixed_cases.prefetch_related("follow_ups__answer", "follow_ups__case__feedback"))
    expected = expected_for(cases)
    assert {k: row[k] for k in expected} == pytest.approx(expected, abs=0.011)
    assert row["recovery_rate"] == (round(100.0 * row["recovered"] / row["responded"], 1) if row["responded"] else None)
    assert row["responded"] == 6


def test_loop_metrics_by_period_split_the_cases(mixed_cases):
    rows = loop_metrics(mixed_cases, period="day")
    assert sum(r["cases"] for r in rows) == 12
    assert [r["period"] for r in rows] == sorted(r["period"] for r in rows)


@pytest.mark.parametrize("group_by", ["owner", "touchpoint", "journey", "root_cause"])
def test_every_grouping_covers_every_case(mixed_cases, group_by):
    assert sum(r["cases"] for r in loop_metrics(mixed_cases, group_by=group_by)) == 12


def test_metrics_api_groups_and_scopes(api, mixed_cases, agent, lead, outsider, integration):
    data = api(lead).get("/api/v1/metrics/", {"group_by": "team"}).json()
    assert [r["group"] for r in data["loop"]] == ["care"]  # the lead sees their team only
    assert {
        r["group"] for r in api(token=integration).get("/api/v1/metrics/", {"group_by": "team"}).json()["loop"]
    } == {"care", "stores"}
    assert api(outsider).get("/api/v1/metrics/").json()["loop"][0]["cases"] == 0
    assert api().get("/api/v1/metrics/").status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"group_by": "planet"}, "group_by"),
        ({"period": "year"}, "period"),
        ({"since": "2026-02-30"}, "since"),
        ({"since": "2026-05-02", "until": "2026-05-01"}, "until"),
    ],
)
def test_metrics_api_names_bad_parameters(api, lead, query, field):
    response = api(lead).get("/api/v1/metrics/", query)
    assert response.status_code == 400 and field in response.json()


def test_metrics_page_for_managers_only(client, mixed_cases, lead, agent):
    client.force_login(agent)
    assert client.get("/cases/metrics/").status_code == 403
    client.force_login(lead)
    page = client.get("/cases/metrics/", {"group_by": "team"})
    assert page.status_code == 200 and b"Recovery %" in page.content and b"care" in page.content
    download = client.get("/cases/metrics/", {"group_by": "team", "download": "csv"})
    assert download["Content-Type"].startswith("text/csv")
    assert b"".join(download.streaming_content).decode().splitlines()[0].startswith("group,period,cases")
    bad = client.get("/cases/metrics/", {"group_by": "planet"})
    assert bad.status_code == 200 and "is not a valid choice" in bad.content.decode()
