"""An archived journey in insights (issue 21): history, not a draft. Its map
and scores page show what it lived, up to its archiving, with a banner
saying when it was archived and which journey replaced it (as the promotion
recorded it); the option that adds journeys that are not live names them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import dateformat, timezone

from cases.insights.queries import journey_archiving
from cases.insights.views import DRAFTS_LABEL
from feedback.services import feedback_ingest
from journeys.models import Journey, Touchpoint
from journeys.services import journey_copy_as_future, journey_promote

pytestmark = pytest.mark.django_db

# When the journey was archived, as its promotion record says (moved back in time).
ARCHIVED_DAYS_AGO = 60


def post(slug: str, n: int, *, days_ago: int, nps: int = 3) -> None:
    outcome = feedback_ingest(
        item={
            "touchpoint": slug,
            "customer": {"external_id": f"cust-{slug}-{n}"},
            "kind": "direct",
            "source": "survey",
            "external_id": f"{slug}-{n}",
            "occurred_at": (timezone.now() - timedelta(days=days_ago)).isoformat(),
            "nps": nps,
        }
    )
    assert outcome.status == "created", outcome


@pytest.fixture
def archived(touchpoint, stores_touchpoint, cx_admin):
    """ "Get connected" replaced by a design without the store till, whose
    two answers (given before the archiving) stay with the archived journey;
    the archiving recorded 60 days ago."""
    post("store-till", 0, days_ago=ARCHIVED_DAYS_AGO + 5)
    post("store-till", 1, days_ago=ARCHIVED_DAYS_AGO + 5, nps=10)
    draft = journey_copy_as_future(journey=touchpoint.stage.journey)
    Touchpoint.objects.filter(slug="store-till-future").delete()
    journey_promote(actor=cx_admin, draft_id=draft.pk)
    journey = Journey.objects.get(slug="get-connected-archived")
    LogEntry.objects.filter(object_id=str(journey.pk), content_type__model="journey").update(
        action_time=timezone.now() - timedelta(days=ARCHIVED_DAYS_AGO)
    )
    return journey


def test_an_archived_journey_map_shows_its_history_up_to_its_archiving_not_a_draft(client, cx_admin, archived):
    client.force_login(cx_admin)
    page = client.get(f"/cases/insights/journeys/{archived.slug}/map/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "A draft journey" not in html
    at = timezone.localtime(timezone.now() - timedelta(days=ARCHIVED_DAYS_AGO))
    assert f"An archived journey, since {dateformat.format(at, 'j M Y')}" in html
    promoted = Journey.objects.get(slug="get-connected")
    assert (
        f'<a href="/cases/insights/journeys/get-connected/map/">{promoted.name}</a> was promoted in its place' in html
    )
    assert "NPS over the 30 days before it was archived" in html
    # Its history's scores: the answers of the 30 days before the archiving (none in the 30 days up to now).
    [stage] = page.context["stages"]
    [card] = stage["cards"]
    assert (card["touchpoint"].slug, card["measure"], card["value"], card["responses"]) == ("store-till", "NPS", 0.0, 2)
    # The journey it replaced the store till's history from is not a draft either: its map is live.
    assert "An archived journey" not in client.get("/cases/insights/journeys/get-connected/map/").content.decode()


def test_an_archived_journey_scores_page_says_so_and_shows_its_history(client, cx_admin, archived):
    client.force_login(cx_admin)
    page = client.get(f"/cases/insights/journeys/{archived.slug}/")
    assert page.status_code == 200
    assert "An archived journey, since" in page.content.decode()
    assert sum(row["responses"] for row in page.context["series"]) == 2


def test_the_replacing_journey_is_named_only_to_those_who_may_see_it(archived, other_team):
    from journeys.roles import TEAM_LEAD
    from tests.conftest import _make_user

    stores_lead = _make_user("stores_lead", TEAM_LEAD, staff=True)
    other_team.members.add(stores_lead)
    # The promoted journey kept only the care team's fault line; the store till stayed in the archived one.
    archiving = journey_archiving(stores_lead, archived)
    assert archiving.at is not None and archiving.replaced_by is None
    assert journey_archiving(stores_lead, Journey.objects.get(slug="get-connected")) is None


def test_an_archived_journey_without_a_promotion_record_shows_the_last_days(client, cx_admin, archived):
    LogEntry.objects.all().delete()
    client.force_login(cx_admin)
    page = client.get(f"/cases/insights/journeys/{archived.slug}/map/")
    html = page.content.decode()
    assert "An archived journey:" in html and "NPS over the last 30 days" in html
    [card] = page.context["stages"][0]["cards"]
    assert card["responses"] == 0


def test_the_index_option_names_the_archived_journeys_it_adds(client, cx_admin, archived):
    client.force_login(cx_admin)
    plain = client.get("/cases/insights/").content.decode()
    assert DRAFTS_LABEL in plain and "archived" in DRAFTS_LABEL
    assert archived.name not in plain
    asked = client.get("/cases/insights/?include_drafts=1").content.decode()
    assert archived.name in asked
