"""What one queue page costs in queries, and that the shortcuts behind it
give the same figures as the plain reads: the user's teams read once for the
queue, the bell and the navigation; the filter selects' journeys and
touchpoints read only when the filter form is rendered, not when it comes
from the cache."""

from __future__ import annotations

import re
from datetime import UTC

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Notification
from cases.notifications.selectors import notifications_of, unread_count
from cases.selectors import Memberships, is_manager, memberships_of, team_ids_of
from journeys.models import Journey, Touchpoint
from journeys.selectors import teams_led_by

pytestmark = pytest.mark.django_db
MINE = "/cases/queue/mine/"


def _tables_read(client, url, params=None) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params or {}).status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def _reading(sqls: list[str], table: str) -> list[str]:
    return [sql for sql in sqls if re.search(rf'FROM "{table}"', sql)]


def test_my_queue_reads_the_users_teams_once(client, make_case, agent):
    make_case()
    client.force_login(agent)
    first = _tables_read(client, MINE)
    # The queue's scope, the bell's count and the navigation's manager links all ask.
    assert len(_reading(first, "journeys_team")) == 1
    # Each select's choices are read once, when the form is rendered.
    assert len(_reading(first, "journeys_touchpoint")) == len(_reading(first, "journeys_journey")) == 1
    # session, user, teams, 2 permission reads, the page, what they said, counts, saved filters, the bell
    again = _tables_read(client, MINE)
    assert len(again) <= 10 and len(first) == len(again) + 2, "\n".join(again)


def test_the_filter_selects_are_read_only_when_the_form_is_rendered(client, make_case, agent, touchpoint):
    make_case()
    client.force_login(agent)
    first = _tables_read(client, MINE, {"status": "new"})
    assert _reading(first, "journeys_touchpoint") and _reading(first, "journeys_journey")
    # The same filters again: the rendered form comes from the cache, with the choices in it.
    again = _tables_read(client, MINE, {"status": "new"})
    assert not _reading(again, "journeys_touchpoint") and not _reading(again, "journeys_journey")
    html = client.get(MINE, {"status": "new"}).content.decode()
    assert f'<option value="{touchpoint.slug}">{touchpoint.name}</option>' in html
    assert f'<option value="{touchpoint.journey.slug}">{touchpoint.journey.name}</option>' in html


def test_the_filter_selects_list_every_journey_and_touchpoint_by_name(client, make_case, agent):
    make_case()
    client.force_login(agent)
    html = client.get(MINE, {"priority": "high"}).content.decode()
    for model, name in ((Touchpoint, "touchpoint"), (Journey, "journey")):
        select = re.search(rf'<select name="{name}".*?</select>', html, re.S).group(0)
        expected = list(model.objects.order_by("name").values_list("slug", "name"))
        assert re.findall(r'<option value="([^"]+)">([^<]+)</option>', select) == expected


@pytest.mark.parametrize("role", ["agent", "lead", "cx_admin", "outsider"])
def test_memberships_are_the_plain_reads(request, role):
    user = get_user_model().objects.get(pk=request.getfixturevalue(role).pk)
    expected = Memberships(tuple(sorted(team_ids_of(user))), teams_led_by(user).exists())
    got = memberships_of(user)
    assert Memberships(tuple(sorted(got.team_ids)), got.leads_a_team) == expected
    assert is_manager(user) == (role in ("lead", "cx_admin"))


def test_memberships_are_read_once_per_user_object(agent):
    user = get_user_model().objects.get(pk=agent.pk)
    with CaptureQueriesContext(connection) as ctx:
        memberships_of(user), memberships_of(user), is_manager(user)
    assert len(_reading([q["sql"] for q in ctx.captured_queries], "journeys_team")) == 1


def test_the_bells_count_is_the_plain_count_of_visible_unread(make_case, agent, other_agent, other_team, lead):
    from tests.cases.test_notifications import deliver

    mine, moved, read = make_case(), make_case(), make_case()
    for case in (mine, moved, read):
        deliver(case)
    Notification.objects.filter(user=agent, event__case=read).update(read_at=moved.created_at)
    # A case moved to a team the agent is not in: its notification is no longer theirs to see.
    type(moved).objects.filter(pk=moved.pk).update(team=other_team)
    for user in (agent, lead, other_agent):
        fresh = get_user_model().objects.get(pk=user.pk)
        plain = notifications_of(fresh).filter(read_at__isnull=True).count()
        assert unread_count(fresh) == plain
    assert unread_count(get_user_model().objects.get(pk=agent.pk)) == 1


@pytest.mark.parametrize("language", ["en", "de"])
def test_a_rows_due_time_reads_as_the_date_filter_writes_it(language):
    from datetime import datetime, timedelta

    from django.utils import translation
    from django.utils.dateformat import format as date_format
    from django.utils.timezone import localtime

    from cases.templatetags.cases_tags import due_text

    start = datetime(2026, 12, 27, 0, 0, tzinfo=UTC)
    days: dict = {}
    with translation.override(language):
        for minutes in range(0, 60 * 24 * 9, 97):  # every weekday, month end and year end, odd minutes
            due = localtime(start + timedelta(minutes=minutes))
            assert due_text(due, days) == date_format(due, "D j M, H:i")
    assert 9 <= len(days) <= 10
