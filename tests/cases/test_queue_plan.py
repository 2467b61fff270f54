"""The frontline queue ("mine, open, due first") is read through the partial
index made for it, not by scanning every case."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.choices import OPEN_STATUSES, CaseStatus
from cases.models import Case
from cases.selectors import cases_visible_to
from feedback.models import FeedbackResponse

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

CASES = 4000
OWNERS = 20


def fill(touchpoint, agent) -> None:
    """CASES cases over OWNERS team members, two in seven open: rows written
    directly, since only their shape matters to the planner."""
    team, now = touchpoint.team, timezone.now()
    colleagues = get_user_model().objects.bulk_create(
        get_user_model()(username=f"member{i}", password="!") for i in range(OWNERS - 1)
    )
    team.members.add(*colleagues)
    owners = [agent, *colleagues]
    responses = FeedbackResponse.objects.bulk_create(
        FeedbackResponse(touchpoint=touchpoint, source="plan", external_id=f"plan-{i}", occurred_at=now, nps=3)
        for i in range(CASES)
    )
    # Seven, prime to OWNERS, so every owner gets every status.
    statuses = [CaseStatus.NEW, CaseStatus.CONTACTED, *[CaseStatus.CLOSED] * 4, CaseStatus.CANCELLED]
    Case.objects.bulk_create(
        Case(
            feedback=response,
            touchpoint=touchpoint,
            journey=touchpoint.stage.journey,
            team=team,
            owner=owners[i % OWNERS],
            status=statuses[i % len(statuses)],
            first_contact_due=now + timedelta(minutes=i),
            resolve_due=now + timedelta(hours=24, minutes=i),
            due_at=now + timedelta(minutes=i),
        )
        for i, response in enumerate(responses)
    )
    with connection.cursor() as cursor:  # ANALYZE, as the tables' owner (tests/conftest.py)
        cursor.execute("SELECT cvx_test_analyze('cases_case')")
        cursor.execute("SELECT cvx_test_analyze('feedback_feedbackresponse')")


def test_my_open_cases_due_first_use_the_open_owner_index(touchpoint, agent):
    fill(touchpoint, agent)
    queue = cases_visible_to(agent).filter(owner=agent, status__in=OPEN_STATUSES).order_by("due_at", "id")[:50]
    rows = [(c.owner_id, c.status in OPEN_STATUSES, c.due_at) for c in queue]
    assert rows == sorted(rows, key=lambda r: r[2]) and set(r[:2] for r in rows) == {(agent.pk, True)}
    assert len(rows) == 50
    plan = queue.explain()
    assert "case_open_owner_due" in plan, plan
    assert "Seq Scan on cases_case" not in plan, plan


def test_my_open_cases_by_status_over_the_api_read_the_index_without_sorting(touchpoint, agent, api):
    """A status filter must not make the list SELECT DISTINCT: PostgreSQL
    would then sort every matching case before taking a page."""
    fill(touchpoint, agent)
    with CaptureQueriesContext(connection) as ctx:
        response = api(agent).get("/api/v1/cases/", {"owner": "me", "status": ["new", "contacted"]})
    assert response.status_code == 200 and len(response.json()["results"]) == 25
    [sql] = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('SELECT "cases_case"."id"')]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "case_open_owner_due" in plan and "Sort" not in plan and "Unique" not in plan, plan


def test_a_deep_queue_page_starts_its_index_range_at_the_cursor(touchpoint, agent):
    """The keyset condition (due_at, id) > cursor must bound the index scan;
    written only as an OR, PostgreSQL reads every earlier case of the owner
    and filters them (59 ms at 10,000 cases deep in bench_queue.py)."""
    from cases.selectors import keyset_page, queue

    fill(touchpoint, agent)
    mine = queue(agent, "mine")
    ordered = list(mine.order_by("due_at", "id"))
    first = keyset_page(mine, after=None, size=10)
    second = keyset_page(mine, after=first.next_cursor, size=10)
    assert [c.pk for c in first.items + second.items] == [c.pk for c in ordered[:20]]
    with CaptureQueriesContext(connection) as ctx:
        third = keyset_page(mine, after=second.next_cursor, size=10)
    assert [c.pk for c in third.items] == [c.pk for c in ordered[20:30]]
    [sql] = [q["sql"] for q in ctx.captured_queries]
    with connection.cursor() as cursor:
        # A test table is small enough for a bitmap scan and a sort: take those
        # away and see what the index scan can be bounded by.
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    index_cond = next(line for line in plan.splitlines() if "Index Cond" in line and "owner_id" in line)
    assert "case_open_owner_due" in plan and "due_at >=" in index_cond, plan
