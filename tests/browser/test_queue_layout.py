"""The queue table at every width, as the walk-through's screenshots showed
it: a name in a narrow column (Owner) does not break mid-word where the row
has room for it ("agent.s/ocial" did, when every cell could break anywhere),
and no word, however long, makes the page scroll sideways."""

from __future__ import annotations

import pytest

from tests.browser.test_case_flow import log_in
from tests.conftest import _make_user

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("pg_audit_cleanup"),
]

# From a wide desktop to a small phone, across the 640 px switch to stacked rows.
WIDTHS = (1366, 1024, 800, 641, 640, 390, 320)

# How many lines the text of an element takes (its line boxes' distinct tops).
LINES = """(e) => {
  const range = document.createRange();
  range.selectNodeContents(e);
  return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
}"""


def test_owner_names_stay_whole_and_no_name_widens_the_queue(page, live_server, lead, team, make_case):
    from journeys.roles import FRONTLINE

    social = _make_user("agent.social", FRONTLINE)
    absurd = _make_user("z" * 150, FRONTLINE)  # the longest username Django allows, one word
    team.members.add(social, absurd)
    for _ in range(3):
        make_case(owner=social, comment="The line keeps dropping every evening and the router restarts on its own")
    make_case(owner=absurd)

    log_in(page, live_server, lead)
    page.goto(f"{live_server.url}/cases/queue/all/")
    owners = page.locator("table.queue tbody tr td:last-child")
    social_cell = owners.filter(has_text="agent.social").first
    absurd_cell = owners.filter(has_text="zzzz")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (
            f"the queue scrolls sideways at {width} px"
        )
        assert social_cell.evaluate(LINES) == 1, f"'agent.social' is broken across lines at {width} px"
        # The absurd name does break, within the page.
        assert absurd_cell.evaluate(LINES) > 1
        assert absurd_cell.evaluate("e => e.getBoundingClientRect().right") <= width
