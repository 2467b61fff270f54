"""The queues do bounded work per request: status counts stop at a cap and
say so, the number of queries does not grow with the rows shown, and the
rows built outside the template language still show (and escape) everything."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Case
from cases.selectors import status_counts

pytestmark = pytest.mark.django_db
API = "/api/v1/cases/"


def test_status_counts_are_exact_up_to_the_cap(make_case):
    for _ in range(3):
        make_case()
    counts = status_counts(Case.objects.all(), cap=3)
    assert (counts.counts, counts.capped, counts.shown("new"), counts.shown("closed")) == ({"new": 3}, False, "3", "0")


def test_status_counts_past_the_cap_are_lower_bounds(make_case):
    for _ in range(3):
        make_case()
    counts = status_counts(Case.objects.all(), cap=2)
    assert counts.capped and counts.shown("new") == "2+"
    assert status_counts(Case.objects.all(), cap=1000).shown("new") == "3"


def test_queue_page_shows_a_capped_count_as_at_least(client, make_case, agent, monkeypatch):
    monkeypatch.setattr("cases.selectors.COUNT_CAP", 2)
    for _ in range(3):
        make_case()
    client.force_login(agent)
    body = client.get("/cases/queue/mine/").content.decode()
    assert "New <b>2+</b>" in body and 'title="At least: counting stops after 2 cases"' in body
    monkeypatch.setattr("cases.selectors.COUNT_CAP", 3)
    body = client.get("/cases/queue/mine/").content.decode()
    assert "New <b>3</b>" in body and "At least" not in body


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params or {}).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("agent", "/cases/queue/mine/"),
        ("lead", "/cases/queue/team/"),
        ("lead", "/cases/queue/all/"),
        ("cx_admin", "/cases/queue/all/"),
        ("agent", API),
        ("lead", API),
    ],
)
def test_queries_do_not_grow_with_the_rows_shown(client, make_case, request, role, url):
    client.force_login(request.getfixturevalue(role))
    make_case(), make_case(owner=None)
    client.get(url)  # the queue page's filter form is rendered once, then cached: count the cached page
    few = _queries(client, url)
    for i in range(6):
        make_case(owner=None if i % 2 else request.getfixturevalue("agent"))
    assert _queries(client, url) == few


def test_queue_rows_show_status_sla_owner_and_selection(client, make_case, lead):
    now = timezone.now()
    overdue, soon, later = make_case(), make_case(owner=None), make_case()
    Case.objects.filter(pk=overdue.pk).update(due_at=now - timedelta(hours=1))
    Case.objects.filter(pk=soon.pk).update(due_at=now + timedelta(hours=1))
    Case.objects.filter(pk=later.pk).update(due_at=now + timedelta(days=2))
    client.force_login(lead)
    body = client.get("/cases/queue/all/").content.decode()
    rows = {case.number: body[body.index(case.number) :].split("</tr>")[0] for case in (overdue, soon, later)}
    assert 'class="badge sla-breached">SLA breached' in rows[overdue.number]
    assert 'class="badge sla-soon">Due soon' in rows[soon.number] and "— unassigned" in rows[soon.number]
    assert "sla-" not in rows[later.number] and "agent" in rows[later.number]
    assert 'class="badge status-new">New</span>' in rows[later.number]
    assert f'<a href="/cases/{later.pk}/">{later.number}</a>' in body
    assert f'<input type="checkbox" name="case" value="{later.pk}" aria-label="Select {later.number}">' in body
    assert 'name="case"' not in client.get("/cases/queue/team/").content.decode()


def test_queue_rows_escape_what_they_show(client, make_case, agent, touchpoint):
    touchpoint.name = "<script>alert(1)</script>"
    touchpoint.save()
    make_case()
    client.force_login(agent)
    body = client.get("/cases/queue/mine/").content.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_a_status_filter_of_several_values_lists_each_case_once(api, make_case, lead):
    cases = [make_case(), make_case(owner=None)]
    results = api(lead).get(API, {"status": ["new", "acknowledged"], "priority": ["normal", "high"]}).json()["results"]
    assert sorted(c["id"] for c in results) == sorted(c.pk for c in cases)
