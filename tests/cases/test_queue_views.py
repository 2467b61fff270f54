"""The agent's views: My queue (open, mine), My recent (any state, touched by
me in the last 30 days), Awaiting follow-up and Closed (mine, no longer
open); the breached filter's label; the views' links on every queue page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import Case
from cases.selectors import queue

pytestmark = pytest.mark.django_db


def ids(cases) -> list[int]:
    return sorted(c.pk for c in cases)


def test_each_view_holds_its_cases(make_case, agent, lead):
    open_case, follow_up, closed, theirs = make_case(), make_case(), make_case(), make_case(owner=lead)
    Case.objects.filter(pk=follow_up.pk).update(status="awaiting_follow_up")
    Case.objects.filter(pk=closed.pk).update(status="closed")
    assert ids(queue(agent, "mine")) == [open_case.pk]
    assert ids(queue(agent, "follow_up")) == [follow_up.pk]
    assert ids(queue(agent, "closed")) == [follow_up.pk, closed.pk]
    assert theirs.pk not in ids(queue(agent, "closed")) + ids(queue(agent, "mine"))


def test_my_recent_is_what_i_touched_in_30_days_in_any_state(make_case, agent, lead, monkeypatch):
    noted, closed, untouched = make_case(owner=lead), make_case(owner=lead), make_case(owner=lead)
    for case in (noted, closed):
        services.case_transition(case_id=case.pk, actor=agent, action="note", note="Looked at it")
    Case.objects.filter(pk=closed.pk).update(status="closed")
    assert ids(queue(agent, "recent")) == sorted([noted.pk, closed.pk])
    assert untouched.pk not in ids(queue(agent, "recent"))
    # 31 days on, those events are no longer recent.
    later = timezone.now() + timedelta(days=31)
    monkeypatch.setattr("cases.selectors.timezone.now", lambda: later)
    assert ids(queue(agent, "recent")) == []


def test_the_views_are_pages_and_closed_shows_a_resolved_case(client, make_case, agent):
    case = make_case()
    Case.objects.filter(pk=case.pk).update(status="resolved")
    client.force_login(agent)
    mine = client.get(reverse("cases:queue", args=["mine"])).content.decode()
    assert case.number not in mine
    for name in ("recent", "follow_up", "team"):
        assert client.get(reverse("cases:queue", args=[name])).status_code == 200
    closed = client.get(reverse("cases:queue", args=["closed"])).content.decode()
    assert case.number in closed
    for label in ("My recent", "Awaiting follow-up", "Closed"):
        assert label in mine
    assert "All cases</a>" not in mine.split('class="views"')[1].split("</nav>")[0]


def test_the_breached_filter_has_a_name(client, agent):
    client.force_login(agent)
    page = client.get(reverse("cases:queue", args=["mine"])).content.decode()
    assert "[invalid name]" not in page
    assert ">Breached" in page


def test_journey_and_touchpoint_are_selects_by_name_and_filter_by_slug(client, make_case, agent, touchpoint):
    case = make_case()
    client.force_login(agent)
    page = client.get(reverse("cases:queue", args=["mine"])).content.decode()
    assert (
        '<select name="touchpoint"' in page and f'<option value="{touchpoint.slug}">{touchpoint.name}</option>' in page
    )
    assert '<select name="journey"' in page and '<select name="status"' in page
    found = client.get(reverse("cases:queue", args=["mine"]), {"touchpoint": touchpoint.slug}).content.decode()
    assert case.number in found
    none = client.get(reverse("cases:queue", args=["mine"]), {"touchpoint": "elsewhere"}).content.decode()
    assert case.number not in none


def test_rows_show_the_customer_and_one_line_of_what_they_said(client, make_case, agent):
    from cases.selectors import SNIPPET_CHARS

    said = "The <b>line</b>\ndropped " + "again and " * 40
    case = make_case(comment=said, customer={"email": "ada@example.com", "name": "Ada <Lovelace>"})
    client.force_login(agent)
    page = client.get(reverse("cases:queue", args=["mine"])).content.decode()
    row = page[page.index(case.number) :].split("</tr>")[0]
    assert "<b>Ada &lt;Lovelace&gt;</b>" in row
    assert "The &lt;b&gt;line&lt;/b&gt; dropped again and" in row  # escaped, on one line
    snippet = row.split("</b> ", 1)[1].split("</div>")[0]
    assert snippet.endswith("…") and len(snippet.replace("&lt;", "<").replace("&gt;", ">")) <= SNIPPET_CHARS


@pytest.mark.parametrize("sort", ["due", "priority", "created", "updated"])
def test_each_sort_pages_through_every_case_once_in_order(make_case, agent, sort):
    from cases.selectors import keyset_page, queue

    now = timezone.now()
    cases = [make_case() for _ in range(7)]
    # Ties on every key, so the id must break them the same way on each page.
    for i, case in enumerate(cases):
        Case.objects.filter(pk=case.pk).update(
            priority=["low", "urgent", "normal", "high"][i % 4],
            due_at=now + timedelta(hours=i % 3),
            created_at=now - timedelta(days=i % 2),
            updated_at=now - timedelta(minutes=i % 3),
        )
    rank = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
    rows = list(Case.objects.filter(pk__in=[c.pk for c in cases]))
    expected = {
        "due": sorted(rows, key=lambda c: (c.due_at, c.pk)),
        "priority": sorted(rows, key=lambda c: (-rank[c.priority], c.due_at, -c.pk)),
        "created": sorted(rows, key=lambda c: (c.created_at, c.pk), reverse=True),
        "updated": sorted(rows, key=lambda c: (c.updated_at, c.pk), reverse=True),
    }[sort]
    seen, after = [], None
    for _ in range(10):
        page = keyset_page(queue(agent, "mine"), after=after, size=2, sort=sort)
        seen += [c.pk for c in page.items]
        after = page.next_cursor
        if after is None:
            break
    assert seen == [c.pk for c in expected]


def test_the_sort_links_and_a_bad_sort_or_cursor(client, make_case, agent):
    first, second = make_case(), make_case()
    Case.objects.filter(pk=first.pk).update(priority="low")
    Case.objects.filter(pk=second.pk).update(priority="urgent")
    client.force_login(agent)
    url = reverse("cases:queue", args=["mine"])
    page = client.get(url, {"sort": "priority", "status": "new"}).content.decode()
    assert page.index(second.number) < page.index(first.number)
    assert "status=new&amp;sort=created" in page and 'aria-current="true">Priority' in page
    for params in (
        {"sort": "nonsense"},
        {"sort": "created", "after": "bm9uc2Vuc2U"},
        {"sort": "priority", "after": "x\x00"},
    ):
        response = client.get(url, params)
        assert response.status_code == 200 and first.number in response.content.decode()


def test_saved_filters_are_saved_listed_and_deleted_per_user(client, make_case, agent, lead):
    from cases.models import SavedFilter

    case = make_case()
    client.force_login(agent)
    url = reverse("cases:saved-filter-save", args=["closed"])
    response = client.post(url, {"name": " Urgent  ones ", "query": "priority=urgent&sort=created&after=abc"})
    saved = SavedFilter.objects.get(user=agent)
    assert (saved.name, saved.queue, saved.query) == ("Urgent ones", "closed", "priority=urgent&sort=created")
    assert response["Location"] == f"{reverse('cases:queue', args=['closed'])}?priority=urgent&sort=created"
    # The same name replaces; the list shows it on every queue page, and to no one else.
    client.post(url, {"name": "Urgent ones", "query": "priority=high"})
    assert SavedFilter.objects.get(user=agent).query == "priority=high"
    page = client.get(reverse("cases:queue", args=["mine"])).content.decode()
    assert f'href="{reverse("cases:queue", args=["closed"])}?priority=high">Urgent ones</a>' in page
    client.force_login(lead)
    assert "Urgent ones" not in client.get(reverse("cases:queue", args=["mine"])).content.decode()
    delete = reverse("cases:saved-filter-delete", args=[saved.pk])
    assert client.post(delete).status_code == 404  # not theirs
    client.force_login(agent)
    assert client.post(delete, {"next": "https://evil.example/"})["Location"] == reverse("cases:home")
    assert not SavedFilter.objects.exists()
    assert case.number in client.get(reverse("cases:queue", args=["mine"])).content.decode()


@pytest.mark.parametrize(
    ("post", "error"),
    [
        ({"name": "   "}, "Give the filter a name"),
        ({"name": "x" * 81}, "At most 80 characters"),
        ({"name": "a\x00b"}, "NUL"),
        ({"name": "ok", "query": "q=" + "x" * 2000}, "longer than 1000"),
    ],
)
def test_a_filter_that_cannot_be_saved_says_why(client, agent, post, error):
    from cases.models import SavedFilter

    client.force_login(agent)
    response = client.post(reverse("cases:saved-filter-save", args=["mine"]), post, follow=True)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not SavedFilter.objects.exists()
    assert client.post(reverse("cases:saved-filter-save", args=["nope"]), {"name": "x"}).status_code == 404
