"""The weekly digest: who gets it, what it holds (scoped by the selectors,
figures equal to the insights' for the same week), the email's two parts
and links, and one digest per person and week however often, and however
many workers at once, the task runs."""

from __future__ import annotations

import io
import itertools
from datetime import timedelta

import pytest
from django.core.mail import EmailMultiAlternatives
from django.core.management import CommandError, call_command
from django.utils import timezone

from cases import services
from cases.digest import digest_for, digest_recipients, digest_send, digest_send_all, digest_week
from cases.insights.queries import loop_rows, score_rows
from cases.models import WeeklyDigest
from cases.notifications.services import notification_preferences_save
from feedback.analytics import week_start
from feedback.lexicon import topic_save
from feedback.services import feedback_ingest
from feedback.summaries import rebuild_daily_scores

pytestmark = pytest.mark.django_db
_numbers = itertools.count(1)


@pytest.fixture
def other_lead(other_team):
    from journeys.roles import TEAM_LEAD
    from tests.conftest import _make_user

    user = _make_user("other_lead", TEAM_LEAD, staff=True)
    other_team.lead = user
    other_team.save(update_fields=["lead"])
    return user


def give(touchpoint: str, count: int, **fields) -> None:
    for _ in range(count):
        n = next(_numbers)
        outcome = feedback_ingest(
            item={
                "touchpoint": touchpoint,
                "source": "survey",
                "external_id": f"digest-{n}",
                "customer": {"email": f"digest-{n}@example.com"},
                **fields,
            }
        )
        assert outcome.status == "created", outcome.errors


def this_week():
    return week_start(timezone.localdate())


# --- who gets it ---------------------------------------------------------------


def test_recipients_are_active_leads_and_cx_admins_who_did_not_opt_out(
    lead, other_lead, cx_admin, agent, other_agent, outsider, integration
):
    from journeys.models import Team
    from journeys.roles import TEAM_LEAD
    from tests.conftest import _make_user

    gone = _make_user("gone_lead", TEAM_LEAD, staff=True)
    Team.objects.create(name="Gone", slug="gone", lead=gone)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    assert [u.username for u in digest_recipients()] == ["lead", "other_lead", "cxadmin"]

    notification_preferences_save(user=other_lead, email=[], weekly_digest=False)
    notification_preferences_save(user=lead, email=[])  # the digest as it was: on
    assert [u.username for u in digest_recipients()] == ["lead", "cxadmin"]


def test_a_lead_opts_out_on_the_settings_page_and_an_agent_is_not_offered_it(lead, agent, client):
    client.force_login(lead)
    page = client.get("/cases/notifications/settings/").content.decode()
    assert 'name="weekly_digest"' in page and "checked" in page.split('name="weekly_digest"')[1].split(">")[0]
    assert client.post("/cases/notifications/settings/", {"email": ["assigned"]}).status_code == 302
    assert lead not in digest_recipients()
    client.post("/cases/notifications/settings/", {"email": ["assigned"], "weekly_digest": "on"})
    assert lead in digest_recipients()

    client.force_login(agent)
    assert 'name="weekly_digest"' not in client.get("/cases/notifications/settings/").content.decode()


def test_the_digest_schedule_is_installed_by_migration():
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="cvx: weekly digest")
    assert (schedule.func, schedule.schedule_type, schedule.repeats) == ("cases.tasks.send_weekly_digests", "W", -1)
    assert schedule.next_run.weekday() == 0  # a Monday


def test_the_digest_covers_the_last_whole_week():
    from datetime import date

    assert digest_week(date(2026, 12, 7)) == date(2026, 11, 30)  # a Monday: the week before
    assert digest_week(date(2026, 12, 13)) == date(2026, 11, 30)  # a Sunday: still the week before


# --- what it holds -------------------------------------------------------------


@pytest.fixture
def week_of_feedback(make_case, stores_touchpoint, lead, other_lead, cx_admin):
    """At care's fault line: 3 detractors and 2 promoters (NPS -20), the
    detractors' comments about the router; at the stores' till: 2
    detractors complaining about the queue. Cases for the detractors."""
    topic_save(actor=None, name="Router", phrases=["router"])
    topic_save(actor=None, name="Queue", phrases=["queue"])
    for _ in range(3):
        make_case(nps=2, csat=1, comment="The router keeps failing, awful service")
    give("fault-line", 2, nps=10, csat=5, ces=6, ves=5, comment="Great help")
    for _ in range(2):
        make_case(touchpoint="store-till", nps=1, comment="The queue was terrible and slow")
    rebuild_daily_scores()
    return this_week()


def _pillar(pillars, name):
    return next(p for p in pillars if p.name == name)


def test_a_leads_digest_holds_only_their_teams_with_the_insights_figures(week_of_feedback, lead):
    week = week_of_feedback
    digest = digest_for(lead, week=week)
    days = {"since": week, "until": week + timedelta(days=6)}

    assert [team.slug for team, _ in digest.teams] == ["care"]
    nps = _pillar(digest.overall, "NPS")
    assert (nps.value, nps.n) == (-20.0, 5)  # (2 - 3) / 5: the stores' detractors are not the lead's
    scores, loop = score_rows(lead, **days)[0], loop_rows(lead, **days)[0]
    team_scores = score_rows(lead, group_by="team", **days)[0]
    assert team_scores["group"] == "care"
    for pillars, row in ((digest.overall, scores), (digest.teams[0][1], team_scores)):
        assert (_pillar(pillars, "NPS").margin, _pillar(pillars, "NPS").n) == (row["nps_margin"], row["nps_n"])
        assert (_pillar(pillars, "CSAT").value, _pillar(pillars, "CSAT").margin) == (
            row["csat_pct"],
            row["csat_margin"],
        )
        ces, ves = _pillar(pillars, "CES low effort"), _pillar(pillars, "VES enhanced")
        assert (ces.value, ces.n, ces.margin) == (row["ces_low_effort_pct"], row["ces_n"], row["ces_low_effort_margin"])
        assert (ves.value, ves.n, ves.margin) == (row["ves_enhanced_pct"], row["ves_n"], row["ves_enhanced_margin"])
    fcr = _pillar(digest.overall, "FCR")
    assert (fcr.value, fcr.n, fcr.margin) == (loop["fcr"], loop["fcr_n"], loop["fcr_margin"])
    assert [topic.name for topic in digest.topics] == ["Router"]
    assert digest.topics[0].volume == 3
    assert _pillar(digest.overall, "NPS").few  # 5 responses, below CVX_MIN_RESPONSES


def test_a_cx_admins_digest_holds_every_team(week_of_feedback, cx_admin, other_lead):
    week = week_of_feedback
    digest = digest_for(cx_admin, week=week)
    assert [team.slug for team, _ in digest.teams] == ["care", "stores"]
    stores = digest.teams[1][1]
    assert (_pillar(stores, "NPS").value, _pillar(stores, "NPS").n) == (-100.0, 2)
    assert (_pillar(digest.overall, "NPS").value, _pillar(digest.overall, "NPS").n) == (-42.9, 7)
    assert sorted(topic.name for topic in digest.topics) == ["Queue", "Router"]
    assert [t.slug for t, _ in digest_for(other_lead, week=week).teams] == ["stores"]


def test_breaches_of_the_week_are_listed_for_the_team_only(make_case, stores_touchpoint, lead, other_lead):
    care = make_case()
    stores = make_case(touchpoint="store-till")
    services.sla_sweep(now=max(care.first_contact_due, stores.first_contact_due) + timedelta(minutes=1))
    care.refresh_from_db()
    week = week_start(timezone.localtime(care.first_contact_breached_at).date())

    digest = digest_for(lead, week=week)
    assert [c.pk for c in digest.breaches] == [care.pk] and digest.breach_count == 1
    assert [c.pk for c in digest_for(other_lead, week=week).breaches] == [stores.pk]
    assert digest_for(lead, week=week - timedelta(days=7)).breach_count == 0


def test_cases_closed_not_recovered_this_week_are_listed(
    make_case, agent, lead, other_lead, root_cause, client, mailoutbox, django_capture_on_commit_callbacks
):
    import re

    case = make_case(nps=3, csat=2)
    with django_capture_on_commit_callbacks(execute=True):
        services.case_log_contact(case_id=case.pk, actor=agent, channel="phone", note="Called")
        services.case_resolve(case_id=case.pk, actor=agent, root_cause=root_cause, note="Replaced the router")
    survey = re.search(r"http://[^/\s]+(/s/[^/\s]+/)", mailoutbox[-1].body).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(survey, {"nps": "2", "csat": "1"})
    case.refresh_from_db()
    assert case.outcome == "not_recovered"

    digest = digest_for(lead, week=this_week())
    assert [c.pk for c in digest.not_recovered] == [case.pk] and digest.not_recovered_count == 1
    assert digest_for(other_lead, week=this_week()).not_recovered_count == 0


# --- the email ------------------------------------------------------------------


def test_the_email_has_a_complete_text_part_an_html_part_with_inline_charts_and_links(
    week_of_feedback, lead, settings, mailoutbox
):
    settings.CVX_BASE_URL = "https://cvx.example.com/"
    assert digest_send(user=lead, week=week_of_feedback) is True
    (email,) = mailoutbox
    assert isinstance(email, EmailMultiAlternatives) and email.to == [lead.email]
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    text = email.body
    assert html.count("<svg") == 4 and "<svg" not in text  # NPS, CSAT %, CES and VES per week
    for part in (text, html):
        assert "Customer care" in part and "Stores" not in part
        assert "-20.0 ± " in part and "n = 5" in part
        assert "Router: 3 negative responses" in part
        assert "https://cvx.example.com/cases/metrics/?group_by=team" in part
        assert "https://cvx.example.com/cases/insights/" in part
        assert "https://cvx.example.com/cases/notifications/settings/" in part
    assert "NPS: " in text and "(n = 5)" in text  # the charts' weekly figures, in words


def test_the_task_sends_each_person_one_digest_a_week_however_often_it_runs(lead, cx_admin, agent, mailoutbox):
    from cases.tasks import send_weekly_digests

    assert send_weekly_digests() == 2
    assert send_weekly_digests() == 0
    assert sorted(m.to[0] for m in mailoutbox) == [cx_admin.email, lead.email]
    claims = WeeklyDigest.objects.order_by("user__username")
    assert [(c.user, c.week) for c in claims] == [(cx_admin, digest_week()), (lead, digest_week())]
    assert all(c.sent_at is not None for c in claims)
    assert digest_send_all(week=digest_week() - timedelta(days=7)) == 2  # another week: another digest


def test_a_digest_that_fails_to_send_is_not_claimed_so_the_next_run_sends_it(lead, mailoutbox, monkeypatch):
    def refuse(self, fail_silently=False):
        raise ConnectionRefusedError("no mail server")

    week = digest_week()
    with monkeypatch.context() as patch:
        patch.setattr(EmailMultiAlternatives, "send", refuse)
        with pytest.raises(ConnectionRefusedError):
            digest_send(user=lead, week=week)
    assert not WeeklyDigest.objects.exists()
    assert digest_send(user=lead, week=week) is True and len(mailoutbox) == 1


# --- the command ----------------------------------------------------------------


def test_send_digest_dry_run_prints_it_and_sends_nothing(week_of_feedback, lead, mailoutbox):
    out = io.StringIO()
    call_command("send_digest", "--user", "lead", "--dry-run", "--week", str(week_of_feedback), stdout=out)
    printed = out.getvalue()
    assert printed.startswith("Subject: [CVX] Your weekly digest") and "To: lead@example.com" in printed
    assert "Customer care:" in printed and "NPS: -20.0 ± " in printed
    assert not mailoutbox and not WeeklyDigest.objects.exists()


def test_send_digest_sends_once_and_refuses_who_is_not_a_lead_or_admin(lead, agent, mailoutbox):
    out = io.StringIO()
    call_command("send_digest", "--user", "lead", stdout=out)
    call_command("send_digest", "--user", "lead", stdout=out)
    assert len(mailoutbox) == 1 and "already gone" in out.getvalue()
    with pytest.raises(CommandError, match="--user: 'agent' is neither"):
        call_command("send_digest", "--user", "agent", "--dry-run")
    with pytest.raises(CommandError, match="--user: no active user"):
        call_command("send_digest", "--user", "nobody", "--dry-run")
    with pytest.raises(CommandError, match="--week"):
        call_command("send_digest", "--user", "lead", "--dry-run", "--week", "last week")


# --- two workers at once (PostgreSQL: real threads on real connections) ---------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_running_the_task_at_once_send_each_person_one_digest(pg_audit_cleanup, lead, cx_admin, mailoutbox):
    from tests.cases.test_concurrency import run_together

    week = digest_week()
    results, errors = run_together(*[lambda: digest_send_all(week=week)] * 2)
    assert errors == [None, None]
    assert sum(results) == 2
    assert sorted(m.to[0] for m in mailoutbox) == [cx_admin.email, lead.email]
    assert WeeklyDigest.objects.filter(week=week, sent_at__isnull=False).count() == 2
