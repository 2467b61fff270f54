"""Browser test of the insight pages: a team lead opens the journey map from
the navigation, reads a touchpoint's card, clicks through to the touchpoint
page and finds its charts, themes, cases and value chain.

Screenshots (desktop and 390 px phone width) are written to
artifacts/screenshots/: journey-map.png, journey-map-phone.png,
touchpoint.png and touchpoint-phone.png.

The fixtures `chromium`, `page` and `pg_audit_cleanup` come from
tests/conftest.py; the live server sees only committed data, hence
transactional tests."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("pg_audit_cleanup"),
]

PASSWORD = "a-Long-test-passw0rd"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
NEGATIVE = [
    "The line dropped again during my video call, awful.",
    "Waited an hour on hold, terrible service.",
    "Engineer never came and nobody called back. <b>Useless</b>",
    "Slow speeds every evening, very annoying.",
]
POSITIVE = ["Quick and friendly help, thank you!", "Fixed on the first call, great.", "Easy to order, love it."]
NEUTRAL = ["It was okay.", "Got what I needed."]


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def log_in(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


@pytest.fixture
def journey_with_history(journey, stage, touchpoint, team, other_team, agent, detractor_rule, root_cause):
    """Four stages, six touchpoints (one of another team), 26 weeks of
    feedback routed into cases; some fault-line cases resolved and followed up."""
    from cases import services
    from cases.models import Case, FollowUp
    from feedback.services import feedback_ingest, feedback_ingest_many
    from journeys.models import Stage, Touchpoint

    stages = {
        name: Stage.objects.create(journey=journey, name=name, position=n)
        for n, name in enumerate(["Discover", "Buy", "Get set up"])
    }
    moods = {"fault-line": 0.45}
    for slug, name, channel, where, owner_team, mood in [
        ("website", "Website", "web", "Discover", team, 0.15),
        ("checkout", "Online checkout", "web", "Buy", team, 0.2),
        ("shop", "Store visit", "store", "Buy", other_team, 0.3),
        ("install", "Engineer visit", "field_visit", "Get set up", team, 0.35),
        ("chat", "Support chat", "chat", stage.name, team, 0.25),
    ]:
        Touchpoint.objects.create(
            stage=stages.get(where, stage), name=name, slug=slug, channel=channel, team=owner_team, position=1
        )
        moods[slug] = mood
    rnd, now = random.Random(11), timezone.now()
    items = []
    for n in range(260):
        slug = rnd.choice(sorted(moods))
        roll = rnd.random()
        nps = rnd.randint(0, 6) if roll < moods[slug] else rnd.randint(7, 8) if roll < 0.55 else rnd.randint(9, 10)
        items.append(
            {
                "touchpoint": slug,
                "source": "browser",
                "external_id": f"b-{n}",
                "nps": nps,
                "csat": max(1, min(5, round(nps / 2))),
                "ces": max(1, min(7, nps // 2 + rnd.randint(0, 2))),
                "comment": rnd.choice(NEGATIVE if nps <= 6 else POSITIVE if nps >= 9 else NEUTRAL),
                "occurred_at": (now - timedelta(days=rnd.uniform(0, 180))).isoformat(),
                "customer": {"email": f"c{rnd.randint(1, 60)}@example.com"},
            }
        )
    for n in range(30):  # operational signals: who left, who bought again
        event = rnd.choice(["churn", "repeat_purchase", "repeat_purchase"])
        items.append(
            {
                "touchpoint": "website",
                "source": "ops",
                "external_id": f"ops-{n}",
                "kind": "inferred",
                "comment": "Contract ended" if event == "churn" else "Bought an upgrade",
                "metadata": {"event": event},
                "customer": {"email": f"c{rnd.randint(1, 60)}@example.com"},
                "occurred_at": (now - timedelta(days=rnd.uniform(0, 60))).isoformat(),
            }
        )
    feedback_ingest_many(items=items)  # routing runs after commit: detractors open cases
    for n, case in enumerate(Case.objects.filter(touchpoint=touchpoint).order_by("pk")[:6]):
        services.case_log_contact(case_id=case.pk, actor=agent, channel="phone", note="Called the customer")
        services.case_resolve(
            case_id=case.pk, actor=agent, root_cause=root_cause, note="Replaced the line card and credited a month."
        )
        follow = FollowUp.objects.filter(case=case).select_related("invitation").first()
        if follow and n < 4:
            feedback_ingest(
                item={
                    "touchpoint": "fault-line",
                    "source": "follow_up",
                    "external_id": f"f-{n}",
                    "nps": 9 if n < 3 else 4,
                    "customer": {"email": follow.invitation.email},
                },
                invitation=follow.invitation,
            )
    overdue = Case.objects.filter(touchpoint=touchpoint, status="new").order_by("pk")[:2]
    Case.objects.filter(pk__in=list(overdue.values_list("pk", flat=True))).update(due_at=now - timedelta(hours=2))
    return journey


def test_lead_reads_the_journey_map_and_a_touchpoint(page, live_server, lead, journey_with_history, touchpoint):
    from cases.insights import queries as insights
    from cases.models import Case
    from cases.selectors import cases_visible_to
    from feedback.selectors import feedback_visible_to

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    [expected] = [
        card
        for stage in insights.journey_map(
            journey_with_history, feedback_visible_to(lead), cases_visible_to(lead), days=30
        )
        for card in stage["cards"]
        if card["touchpoint"] == touchpoint
    ]

    log_in(page, live_server, lead)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Insights").click()
    expect(page.get_by_role("heading", name="Insights", exact=True)).to_be_visible()
    page.get_by_role("link", name="Get connected").first.click()

    expect(page.get_by_role("heading", name="Get connected journey map")).to_be_visible()
    stages = page.locator(".stage h2")
    expect(stages).to_have_text(["1 Discover", "2 Buy", "3 Get set up", "4 Get help"])
    card = page.locator(".tp-card").filter(has_text="Fault line")
    expect(card).to_contain_text(f"{expected['value']:g} {expected['measure']}")
    expect(card).to_contain_text(f"{expected['responses']} response")
    expect(card).to_contain_text(f"{expected['open_cases']} open")
    assert expected["breached_cases"] == 2
    expect(card.locator(".breached")).to_have_text("2 breached")
    other = page.locator(".tp-card").filter(has_text="Store visit")
    expect(other).to_contain_text("Another team's touchpoint")
    expect(other).not_to_contain_text("response")  # no figures from feedback the lead may not see
    expect(page.get_by_role("link", name="Store visit")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "journey-map.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / "journey-map-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    card.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Fault line")).to_be_visible()
    for name in (
        "NPS per week, last 26",
        "CSAT % per week, last 26",
        "CES mean (1–7, 7 = least effort) per week, last 26",
    ):
        expect(page.get_by_role("img", name=name)).to_be_visible()
    expect(page.get_by_role("img", name="How many answered each NPS score, 0–10", exact=False)).to_be_visible()
    themes = page.get_by_role("region", name="Unassigned terms")
    expect(themes.locator("blockquote").first).to_be_visible()
    assert page.locator("blockquote b").count() == 0  # "<b>Useless</b>" stays text
    cases = page.get_by_role("region", name="Cases opened here", exact=False)
    newest = Case.objects.filter(touchpoint=touchpoint).order_by("-created_at", "-id").first()
    expect(cases.get_by_role("link", name=newest.number)).to_be_visible()
    chain = page.get_by_role("region", name="Chain of CX value")
    expect(chain.get_by_role("row", name="Had a case here that was recovered", exact=False)).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "touchpoint.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / "touchpoint-phone.png"), full_page=True)

    cases.get_by_role("link", name=newest.number).click()
    expect(page.get_by_role("heading", name=newest.number)).to_be_visible()
