"""Handling time of contacts (entered or measured, recorded in the audited
event) and the contact-centre measures built on it: average handling time
per contact and per case, and first-contact resolution with no repeat
negative feedback within CVX_FCR_REPEAT_DAYS, against hand-computed figures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cases import handling, services
from cases.audit import verify_case
from cases.choices import EventKind
from cases.models import Case

pytestmark = pytest.mark.django_db


def _contact_event(case: Case):
    return case.events.filter(kind=EventKind.CONTACTED).latest("seq")


def _log(api, user, case, **body):
    return api(user).post(
        f"/api/v1/cases/{case.pk}/transitions/",
        {"action": "log_contact", "channel": "phone", "note": "Called", **body},
        format="json",
    )


# --- recording the handling time ---------------------------------------------------


def test_entered_handling_minutes_are_recorded_in_the_chained_contact_event(api, agent, make_case):
    case = make_case()
    reply = _log(api, agent, case, handling_minutes=12.34)
    assert reply.status_code == 200, reply.json()
    event = _contact_event(case)
    assert event.data["handling_minutes"] == 12.3 and event.data["handling_measured"] is False
    assert verify_case(Case.objects.get(pk=case.pk)) == []


def test_a_contact_without_a_handling_time_records_none(api, agent, make_case):
    case = make_case()
    assert _log(api, agent, case).status_code == 200
    assert "handling_minutes" not in _contact_event(case).data


@pytest.mark.parametrize("minutes", [0, -3, 0.04, 480.1, 100000, "1e999999", "soon", True, "NaN"])
def test_handling_minutes_out_of_bounds_are_refused_naming_the_field(api, agent, make_case, minutes):
    case = make_case()
    reply = _log(api, agent, case, handling_minutes=minutes)
    assert reply.status_code == 400 and "handling_minutes" in reply.json(), reply.json()
    assert not case.events.filter(kind=EventKind.CONTACTED).exists()


def test_the_message_api_records_the_entered_handling_time(api, agent, make_case, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    case = make_case()
    reply = api(agent).post(
        f"/api/v1/cases/{case.pk}/messages/", {"subject": "Hi", "body": "Fixed.", "handling_minutes": 7}, format="json"
    )
    assert reply.status_code == 201, reply.json()
    assert _contact_event(case).data["handling_minutes"] == 7.0
    bad = api(agent).post(
        f"/api/v1/cases/{case.pk}/messages/", {"subject": "Hi", "body": "Again", "handling_minutes": 481}, format="json"
    )
    assert bad.status_code == 400 and "handling_minutes" in bad.json()


def _page_contact(client, case, **fields):
    data = {"log_contact-channel": "phone", "log_contact-note": "Called back"}
    data.update({f"log_contact-{k}": v for k, v in fields.items()})
    return client.post(f"/cases/{case.pk}/act/log_contact/", data)


def test_the_case_page_measures_the_time_from_when_its_form_was_opened(client, agent, make_case):
    case = make_case()
    client.force_login(agent)
    page = client.get(f"/cases/{case.pk}/")
    assert b'name="log_contact-opened"' in page.content and b'name="log_contact-handling_minutes"' in page.content
    opened = handling.opened_token(case.pk, timezone.now() - timedelta(minutes=9, seconds=3))
    assert _page_contact(client, case, opened=opened).status_code == 302
    event = _contact_event(case)
    assert (event.data["handling_minutes"], event.data["handling_measured"]) == (9.1, True)


def test_entered_minutes_win_over_the_measured_time(client, agent, make_case):
    case = make_case()
    client.force_login(agent)
    opened = handling.opened_token(case.pk, timezone.now() - timedelta(minutes=30))
    assert _page_contact(client, case, opened=opened, handling_minutes="4").status_code == 302
    assert _contact_event(case).data == {"channel": "phone", "handling_minutes": 4.0, "handling_measured": False}


def test_a_measured_time_is_clamped_to_a_working_day(client, agent, make_case):
    case = make_case()
    client.force_login(agent)
    opened = handling.opened_token(case.pk, timezone.now() - timedelta(hours=30))
    assert _page_contact(client, case, opened=opened).status_code == 302
    assert _contact_event(case).data["handling_minutes"] == handling.MAX_MINUTES


def test_a_forged_or_borrowed_opening_time_is_refused_on_the_page(client, agent, make_case):
    case, other = make_case(), make_case()
    client.force_login(agent)
    forged = _page_contact(client, case, opened="12345:abc")
    assert forged.status_code == 400 and "reload the page" in forged.content.decode()
    borrowed = _page_contact(client, case, opened=handling.opened_token(other.pk, timezone.now()))
    assert borrowed.status_code == 400 and "another case" in borrowed.content.decode()
    too_long = _page_contact(client, case, handling_minutes="481")
    assert too_long.status_code == 400 and "at most 480 minutes" in too_long.content.decode()
    assert not case.events.filter(kind=EventKind.CONTACTED).exists()


def test_the_composer_measures_from_when_it_was_opened(client, agent, make_case, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    case = make_case()
    client.force_login(agent)
    panel = client.get(f"/cases/{case.pk}/messages/")
    assert b'name="opened"' in panel.content
    opened = handling.opened_token(case.pk, timezone.now() - timedelta(minutes=3))
    sent = client.post(f"/cases/{case.pk}/messages/", {"subject": "Hi", "body": "Sorted", "opened": opened})
    assert sent.status_code == 302
    event = _contact_event(case)
    assert (event.data["handling_minutes"], event.data["handling_measured"]) == (3.0, True)


def test_choosing_a_template_keeps_the_composers_opening_time(client, agent, make_case):
    from cases.messaging.models import ReplyTemplate

    case = make_case()
    template = ReplyTemplate.objects.create(name="Sorry", subject="About {{ case.number }}", body="Sorry.")
    client.force_login(agent)
    first = client.get(f"/cases/{case.pk}/messages/").content.decode()
    assert "hx-include" in first  # the template picker sends the opening time back
    opened = handling.opened_token(case.pk, timezone.now() - timedelta(minutes=5))
    reloaded = client.get(f"/cases/{case.pk}/messages/", {"template": template.pk, "opened": opened})
    assert f'value="{opened}"' in reloaded.content.decode()


def test_the_service_takes_the_handling_time_too(agent, make_case):
    case = make_case()
    services.case_log_contact(case_id=case.pk, actor=agent, channel="email", note="Wrote", handling_minutes="2.5")
    assert _contact_event(case).data["handling_minutes"] == 2.5


# --- average handling time --------------------------------------------------------


@pytest.fixture
def timed_cases(make_case, agent, team, settings):
    """Hand-made handling times: agent's case A 10 + 20 min, case C 8 min and
    one contact without a time; a colleague's case B one 6-minute email;
    case D no contact."""
    from django.contrib.auth import get_user_model

    from cases.messaging.services import case_message_send

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    colleague = get_user_model().objects.create_user("colleague")
    team.members.add(colleague)
    a, b, c = make_case(), make_case(owner=colleague), make_case()
    make_case()
    for minutes in (10, 20):
        services.case_log_contact(case_id=a.pk, actor=agent, channel="phone", note="x", handling_minutes=minutes)
    case_message_send(case_id=b.pk, actor=colleague, subject="Hi", body="Fixed", handling_minutes=6)
    services.case_log_contact(case_id=c.pk, actor=agent, channel="phone", note="x", handling_minutes=8)
    services.case_log_contact(case_id=c.pk, actor=agent, channel="phone", note="untimed")
    return Case.objects.all()


def test_aht_per_contact_and_per_case_against_hand_computed_figures(timed_cases):
    from cases.insights.loop import loop_metrics

    [row] = loop_metrics(timed_cases)
    # Per contact: 10, 20, 6, 8 -> mean 11; sample sd sqrt(116 / 3); margin 1.96 sd / 2.
    assert (row["aht_minutes"], row["aht_n"], row["aht_margin"]) == (11.0, 4, 6.09)
    # Per case: A 30, B 6 (C has an untimed contact, D none) -> mean 18; sd sqrt(288); margin 1.96 sd / sqrt 2.
    assert (row["aht_case_minutes"], row["aht_case_n"], row["aht_case_margin"]) == (18.0, 2, 23.52)


def test_aht_by_owner_and_by_period(timed_cases):
    from cases.insights.loop import loop_metrics

    by_owner = {r["group"]: r for r in loop_metrics(timed_cases, group_by="owner")}
    assert {k: by_owner["agent"][k] for k in ("aht_minutes", "aht_n", "aht_case_minutes", "aht_case_n")} == {
        "aht_minutes": 12.67,  # (10 + 20 + 8) / 3
        "aht_n": 3,
        "aht_case_minutes": 30.0,
        "aht_case_n": 1,
    }
    assert (by_owner["colleague"]["aht_minutes"], by_owner["colleague"]["aht_case_minutes"]) == (6.0, 6.0)
    assert by_owner["colleague"]["aht_margin"] is None  # one contact has no spread to tell
    by_day = loop_metrics(timed_cases, period="day")
    assert sum(r["aht_n"] for r in by_day) == 4 and sum(r["aht_case_n"] for r in by_day) == 2
    by_team = {r["group"]: r for r in loop_metrics(timed_cases, group_by="team")}
    assert by_team["care"]["aht_minutes"] == 11.0


# --- first-contact resolution ---------------------------------------------------------


@pytest.fixture
def fcr_cases(make_case, agent, root_cause, stage, other_team, settings):
    """Seven resolved cases, each a new customer's at fault-line, and what
    that customer said afterwards (N = 7 days):
    1. one contact, a detractor again at fault-line 3 days after -> not FCR
    2. one contact, a detractor again at fault-line 10 days after -> FCR
    3. one contact, a detractor at another touchpoint 3 days after -> FCR
    4. one contact, a promoter again at fault-line 3 days after -> FCR
    5. two contacts -> not FCR
    6. unreachable, no contact -> not FCR, counted apart
    7. one contact, resolved 2 days ago -> not yet decidable
    Cases 1-6 were resolved 20 days ago."""
    from feedback.services import feedback_ingest
    from journeys.models import Touchpoint

    settings.CVX_FCR_REPEAT_DAYS = 7
    Touchpoint.objects.create(stage=stage, name="Store", slug="store", channel="store", team=other_team)
    now = timezone.now()
    cases = {n: make_case() for n in range(1, 8)}
    for n, case in cases.items():
        for _ in range(2 if n == 5 else 0 if n == 6 else 1):
            services.case_log_contact(case_id=case.pk, actor=agent, channel="phone", note="x", handling_minutes=5)
        services.case_resolve(case_id=case.pk, actor=agent, root_cause=root_cause, note="Done", unreachable=n == 6)
        resolved = now - timedelta(days=2 if n == 7 else 20)
        Case.objects.filter(pk=case.pk).update(resolved_at=resolved)
        later = {1: ("fault-line", 3, 2), 2: ("fault-line", 10, 2), 3: ("store", 3, 2), 4: ("fault-line", 3, 10)}
        if n in later:
            touchpoint, days, nps = later[n]
            outcome = feedback_ingest(
                item={
                    "touchpoint": touchpoint,
                    "source": "survey",
                    "external_id": f"later-{n}",
                    "nps": nps,
                    "occurred_at": (resolved + timedelta(days=days)).isoformat(),
                    "customer": {"email": case.customer.identities.get().value},
                }
            )
            assert outcome.status == "created", outcome.errors
    return Case.objects.all()


def test_fcr_against_hand_computed_figures(fcr_cases):
    from cases.insights.loop import loop_metrics

    [row] = loop_metrics(fcr_cases)
    # Decided: cases 1-6; first-contact resolutions: 2, 3 and 4.
    assert (row["fcr"], row["fcr_n"], row["fcr_pending"]) == (50.0, 6, 1)
    assert row["fcr_margin"] == 40.0  # 1.96 * sqrt(0.5 * 0.5 / 6) * 100
    # Unreachable: counted apart, and neither FCR nor SLA met.
    assert (row["resolved"], row["unreachable"], row["sla_met_pct"]) == (7, 1, 85.7)


def test_a_negative_follow_up_answer_is_recovery_not_a_repeat(fcr_cases):
    from cases.insights.loop import loop_metrics
    from cases.models import FollowUp
    from feedback.services import feedback_ingest

    # Case 4 (FCR): its customer answers the follow-up survey as a detractor, inside the window.
    case = fcr_cases.order_by("pk")[3]
    follow = FollowUp.objects.select_related("invitation").get(case=case)
    outcome = feedback_ingest(
        item={
            "touchpoint": "fault-line",
            "source": "follow_up",
            "external_id": f"inv-{follow.invitation_id}",
            "nps": 1,
            "occurred_at": (case.resolved_at + timedelta(days=1)).isoformat(),
            "customer": {"email": follow.invitation.email},
        },
        invitation=follow.invitation,
    )
    assert outcome.status == "created", outcome.errors
    [row] = loop_metrics(fcr_cases)
    assert (row["fcr"], row["fcr_n"]) == (50.0, 6)


def test_the_fcr_window_is_the_setting(fcr_cases, settings):
    from cases.insights.loop import loop_metrics

    settings.CVX_FCR_REPEAT_DAYS = 14
    [row] = loop_metrics(fcr_cases)
    # Case 2's repeat, 10 days after, now falls inside the window.
    assert (row["fcr"], row["fcr_n"], row["fcr_pending"]) == (pytest.approx(100 * 2 / 6, abs=0.05), 6, 1)
    settings.CVX_FCR_REPEAT_DAYS = 30
    [row] = loop_metrics(fcr_cases)
    # Resolved 20 days ago is too recent to tell now: nothing is decided.
    assert (row["fcr"], row["fcr_n"], row["fcr_pending"]) == (None, 0, 7)


def test_the_metrics_api_and_page_report_fcr_and_aht_with_n(api, client, lead, fcr_cases):
    reply = api(lead).get("/api/v1/metrics/")
    assert reply.status_code == 200, reply.json()
    [row] = reply.json()["loop"]
    assert {k: row[k] for k in ("fcr", "fcr_n", "fcr_margin", "fcr_pending", "aht_minutes", "aht_n")} == {
        "fcr": 50.0,
        "fcr_n": 6,
        "fcr_margin": 40.0,
        "fcr_pending": 1,
        "aht_minutes": 5.0,
        "aht_n": 7,
    }
    schema = api(lead).get("/api/v1/schema/", {"format": "json"}).json()
    fcr_help = schema["components"]["schemas"]["LoopRow"]["properties"]["fcr"]["description"]
    assert "not yet decidable" in fcr_help
    client.force_login(lead)
    page = client.get("/cases/metrics/").content.decode()
    assert "FCR %" in page and "AHT per contact min" in page and "not yet decidable" in page


@pytest.mark.parametrize(("value", "expected"), [("0", "must be at least 1"), ("a week", "expected a whole number")])
def test_a_bad_fcr_window_stops_start_up_naming_the_setting(tmp_path, value, expected):
    from tests.site.test_config import manage

    result = manage("check", env={"DJANGO_SECRET_KEY": "x" * 60, "CVX_FCR_REPEAT_DAYS": value}, tmp_path=tmp_path)
    assert result.returncode == 2
    assert f"CVX configuration error: CVX_FCR_REPEAT_DAYS: {expected}" in result.stderr
