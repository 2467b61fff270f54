"""The loyalty pillars page in Chromium (issue 18, the browser part of "Done
when"): a team lead opens a journey's pillars from the insights index and
reads them, and the journey's value dimensions, at a laptop's 1366 px and a
phone's 390 px, neither scrolling the page sideways.

Screenshots go to artifacts/screenshots/pillars-journey.png (desktop) and
pillars-journey-phone.png, as the walk-through's do."""

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


@pytest.fixture
def scores(touchpoint, settings):
    """40 answers at fault-line two days ago and 40 forty days ago (in the 30
    days before the default period), CSAT going from 20 to 36 satisfied;
    fault-line serves two value dimensions."""
    from feedback.services import feedback_ingest_many
    from feedback.summaries import rebuild_daily_scores
    from journeys.models import Touchpoint

    settings.CVX_MIN_RESPONSES = 30
    Touchpoint.objects.filter(pk=touchpoint.pk).update(value_dimensions=["functional", "experiential"])
    items = []
    for days, satisfied in ((2, 36), (40, 20)):
        at = (timezone.now() - timedelta(days=days)).isoformat()
        items += [
            {
                "touchpoint": "fault-line",
                "source": "survey",
                "external_id": f"p{days}-{i}",
                "occurred_at": at,
                "nps": 8,
                "csat": 5 if i < satisfied else 3,
                "ces": 6,
                "ves": 4,
            }
            for i in range(40)
        ]
    assert {o.status for o in feedback_ingest_many(items=items)} == {"created"}
    rebuild_daily_scores()


def test_a_lead_reads_a_journeys_pillars_at_laptop_and_phone_widths(page, live_server, lead, scores):
    page.set_viewport_size(WIDTHS[""])
    log_in(page, live_server, lead)
    page.goto(f"{live_server.url}/cases/insights/")
    page.get_by_role("link", name="Loyalty pillars").first.click()
    expect(page.get_by_role("heading", name="Loyalty pillars")).to_be_visible()
    # CSAT 36/40 = 90 against 20/40 = 50: the one clear change.
    expect(page.locator("#moved-most")).to_contain_text("Moved most: CSAT, up 40.0 from 50.0 to 90.0.")
    pillars = page.locator("#pillars")
    for name in ("CSAT", "FCR", "CES", "VES", "NPS"):
        expect(pillars.get_by_role("rowheader", name=name, exact=False)).to_be_visible()
    expect(page.get_by_role("heading", name="By value dimension")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for suffix, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"pillars{suffix}: the page is {width} px wide"
        expect(page.locator("#value-dimensions")).to_contain_text("Functional")
        page.screenshot(path=str(SCREENSHOTS / f"pillars-journey{suffix}.png"), full_page=True)
