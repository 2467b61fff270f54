"""`sort` on GET /api/v1/cases/: the queue pages' orders, each paged by its own keyset cursor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Case

pytestmark = pytest.mark.django_db
URL = "/api/v1/cases/"
RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
EXPECTED = {
    "due": lambda c: (c.due_at, c.pk),
    "priority": lambda c: (-RANK[c.priority], c.due_at, -c.pk),
    "created": lambda c: (-c.created_at.timestamp(), -c.pk),
    "updated": lambda c: (-c.updated_at.timestamp(), -c.pk),
}


@pytest.fixture
def tied_cases(make_case, other_agent, other_team):
    """Nine cases of `care` with ties on every key, so the id must break them
    the same way on each page, and one of other_agent's team."""
    now = timezone.now()
    cases = [make_case() for _ in range(9)]
    for i, case in enumerate(cases):
        Case.objects.filter(pk=case.pk).update(
            priority=["low", "urgent", "normal", "high"][i % 4],
            due_at=now + timedelta(hours=i % 3),
            created_at=now - timedelta(days=i % 2),
            updated_at=now - timedelta(minutes=i % 3),
        )
    Case.objects.filter(pk=make_case().pk).update(team=other_team, owner=other_agent)
    return list(Case.objects.filter(pk__in=[c.pk for c in cases]))


def walk(client, **query) -> list[int]:
    page = client.get(URL, {"page_size": 2, **query})
    assert page.status_code == 200, page.content
    page = page.json()
    seen = [c["id"] for c in page["results"]]
    for _ in range(20):
        if not page["next"]:
            break
        assert page["previous"] is None
        page = client.get(page["next"]).json()
        seen += [c["id"] for c in page["results"]]
    return seen


@pytest.mark.parametrize("sort", ["due", "priority", "created", "updated"])
def test_each_sort_walks_every_visible_case_once_in_its_order(api, tied_cases, agent, sort):
    seen = walk(api(agent), sort=sort)
    assert seen == [c.pk for c in sorted(tied_cases, key=EXPECTED[sort])]


@pytest.mark.parametrize("sort", ["due", "priority", "created", "updated"])
def test_a_sorted_list_keeps_the_filters_and_the_scope(api, tied_cases, agent, other_agent, outsider, sort):
    urgent = [c.pk for c in sorted(tied_cases, key=EXPECTED[sort]) if c.priority in ("urgent", "high")]
    assert walk(api(agent), sort=sort, priority=["urgent", "high"]) == urgent
    assert walk(api(outsider), sort=sort) == []
    assert len(walk(api(other_agent), sort=sort)) == 1  # only their own team's case


def test_the_sort_and_the_queue_page_agree(api, tied_cases, agent):
    from cases.selectors import keyset_page, queue

    for sort in ("priority", "updated"):
        page = keyset_page(queue(agent, "all"), after=None, size=25, sort=sort)
        assert walk(api(agent), sort=sort) == [c.pk for c in page.items]


def test_no_sort_is_by_due_time(api, tied_cases, agent):
    assert walk(api(agent)) == [c.pk for c in sorted(tied_cases, key=EXPECTED["due"])]


@pytest.mark.parametrize("sort", ["nonsense", "-due", "due_at", "Due", "x\x00"])
def test_an_unknown_sort_is_400_naming_the_parameter(api, tied_cases, agent, sort):
    response = api(agent).get(URL, {"sort": sort})
    assert response.status_code == 400
    assert "use one of due, priority, created, updated" in response.json()["sort"][0]


def test_a_cursor_of_another_order_or_garbage_is_404(api, tied_cases, agent):
    client = api(agent)
    by_priority = client.get(URL, {"sort": "priority", "page_size": 2}).json()["next"]
    cursor = by_priority.split("cursor=")[1].split("&")[0]
    for query in ({"sort": "created", "cursor": cursor}, {"cursor": cursor}, {"sort": "due", "cursor": "bm9uc2Vuc2U"}):
        response = client.get(URL, query)
        assert response.status_code == 404 and response.json()["detail"] == "Invalid cursor"
    assert client.get(URL, {"sort": "priority", "cursor": cursor}).status_code == 200


def test_the_schema_documents_sort_with_its_values(api, agent):
    schema = api(agent).get("/api/v1/schema/", {"format": "json"}).json()
    parameters = {p["name"]: p for p in schema["paths"][URL]["get"]["parameters"]}
    assert parameters["sort"]["schema"]["enum"] == ["due", "priority", "created", "updated"]
    assert parameters["sort"]["in"] == "query" and "priority descending" in parameters["sort"]["description"]
    assert {"cursor", "page_size"} <= parameters.keys()


@pytest.mark.parametrize("sort", ["priority", "created"])
def test_a_sorted_search_pages_through_its_matches(api, tied_cases, agent, sort):
    first = sorted(tied_cases, key=EXPECTED[sort])[0]
    assert walk(api(agent), sort=sort, q="line dropped") == [c.pk for c in sorted(tied_cases, key=EXPECTED[sort])]
    assert walk(api(agent), sort=sort, q=first.number) == [first.pk]
