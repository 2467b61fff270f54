"""Guard rails of working a case: no resolution without reaching the customer
(unless they were unreachable, counted apart), teammates' notes, who a case
may be given to, notes over the limit refused, long words wrapping, and the
case page's forms keeping what was entered when they are refused."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from cases import services
from cases.choices import CaseStatus, EventKind
from cases.insights.loop import loop_metrics
from cases.models import Case
from cases.services.transitions import NOTE_MAX_CHARS
from cvx_site.errors import Conflict, InvalidInput, NotFound, PermissionDenied

pytestmark = pytest.mark.django_db

URL = "/api/v1/cases/"


def contact(case, actor, channel="phone"):
    return services.case_log_contact(case_id=case.pk, actor=actor, channel=channel, note="Called the customer")


# --- resolving needs a contact ---------------------------------------------------


def test_resolve_without_a_contact_is_a_conflict_with_the_reason(make_case, agent, root_cause):
    case = make_case()
    count = case.events.count()
    with pytest.raises(Conflict, match="no contact with the customer is recorded"):
        services.case_resolve(case_id=case.pk, actor=agent, root_cause=root_cause, note="Fixed")
    case.refresh_from_db()
    assert (case.status, case.resolved_at, case.events.count()) == (CaseStatus.NEW, None, count)


def test_a_contact_event_of_any_channel_allows_resolving(make_case, agent, root_cause):
    case = make_case()
    contact(case, agent, channel="email")
    case = services.case_resolve(case_id=case.pk, actor=agent, root_cause=root_cause, note="Fixed")
    assert case.resolved_at is not None and case.unreachable is False
    resolved = case.events.get(kind=EventKind.RESOLVED)
    assert "unreachable" not in resolved.data


def test_an_unreachable_customer_is_recorded_on_the_event_and_the_case(make_case, agent, root_cause):
    case = make_case()
    case = services.case_resolve(
        case_id=case.pk, actor=agent, root_cause=root_cause, note="Three calls, no answer", unreachable=True
    )
    assert case.unreachable is True and case.resolved_at is not None
    resolved = case.events.get(kind=EventKind.RESOLVED)
    assert (resolved.actor, resolved.data["unreachable"]) == (agent, True)
    assert Case.objects.get(pk=case.pk).unreachable is True


def test_resolving_again_after_reopening_says_afresh_whether_unreachable(make_case, agent, lead, root_cause):
    case = make_case()
    services.case_resolve(case_id=case.pk, actor=agent, root_cause=root_cause, note="No answer", unreachable=True)
    services.case_reopen(case_id=case.pk, actor=lead, note="The customer called back")
    contact(case, agent)
    case = services.case_resolve(case_id=case.pk, actor=agent, root_cause=root_cause, note="Sorted on the phone")
    assert case.unreachable is False


def test_api_resolve_without_a_contact_is_409_and_unreachable_true_resolves(api, make_case, agent, root_cause):
    case = make_case()
    body = {"action": "resolve", "root_cause": root_cause.pk, "note": "Fixed"}
    refused = api(agent).post(f"{URL}{case.pk}/transitions/", body, format="json")
    assert refused.status_code == 409
    assert "log a contact" in refused.json()["detail"]
    done = api(agent).post(f"{URL}{case.pk}/transitions/", {**body, "unreachable": True}, format="json")
    assert done.status_code == 200, done.json()
    assert done.json()["resolved_at"] is not None
    assert case.events.get(kind=EventKind.RESOLVED).data["unreachable"] is True


def test_api_unreachable_must_be_a_boolean(api, make_case, agent, root_cause):
    case = make_case()
    body = {"action": "resolve", "root_cause": root_cause.pk, "note": "Fixed", "unreachable": "perhaps"}
    response = api(agent).post(f"{URL}{case.pk}/transitions/", body, format="json")
    assert response.status_code == 400 and "unreachable" in response.json()


def test_the_case_page_refuses_with_the_reason_and_offers_unreachable(client, make_case, agent, root_cause):
    case = make_case()
    client.force_login(agent)
    page = client.get(f"/cases/{case.pk}/")
    assert 'name="resolve-unreachable"' in page.content.decode()
    refused = client.post(f"/cases/{case.pk}/act/resolve/", {"resolve-root_cause": root_cause.pk, "resolve-note": "x"})
    assert refused.status_code == 409
    assert "log a contact" in refused.content.decode()
    done = client.post(
        f"/cases/{case.pk}/act/resolve/",
        {"resolve-root_cause": root_cause.pk, "resolve-note": "No answer", "resolve-unreachable": "on"},
    )
    assert done.status_code == 302
    assert Case.objects.get(pk=case.pk).unreachable is True


# --- loop metrics count unreachable resolutions apart ---------------------------


def test_unreachable_resolutions_meet_neither_sla_nor_first_contact_resolution(make_case, agent, root_cause):
    reached = make_case()
    contact(reached, agent)
    services.case_resolve(case_id=reached.pk, actor=agent, root_cause=root_cause, note="Fixed")
    # One contact, but the customer never answered: not a first-contact resolution.
    tried = make_case()
    contact(tried, agent)
    services.case_resolve(case_id=tried.pk, actor=agent, root_cause=root_cause, note="Gone", unreachable=True)
    services.case_resolve(case_id=make_case().pk, actor=agent, root_cause=root_cause, note="Gone", unreachable=True)
    # Past the FCR window, so that first-contact resolution is decided.
    [row] = loop_metrics(Case.objects.all(), now=timezone.now() + timedelta(days=settings.CVX_FCR_REPEAT_DAYS))
    assert (row["resolved"], row["unreachable"]) == (3, 2)
    assert row["sla_met_pct"] == pytest.approx(100 / 3, abs=0.05)
    assert (row["fcr"], row["fcr_n"]) == (pytest.approx(100 / 3, abs=0.05), 3)


def test_the_metrics_api_reports_unreachable(api, lead, make_case, agent, root_cause):
    services.case_resolve(case_id=make_case().pk, actor=agent, root_cause=root_cause, note="Gone", unreachable=True)
    response = api(lead).get("/api/v1/metrics/")
    assert response.status_code == 200, response.content
    assert [row["unreachable"] for row in response.json()["loop"]] == [1]


# --- teammates' notes -------------------------------------------------------------


def test_a_teammate_may_add_a_note_to_a_colleagues_case(make_case, agent, team):
    from django.contrib.auth import get_user_model

    colleague = get_user_model().objects.create_user("colleague")
    team.members.add(colleague)
    case = services.case_note(case_id=make_case().pk, actor=colleague, note="I spoke to them last week too")
    note = case.events.get(kind=EventKind.NOTE)
    assert (note.actor, note.note, case.owner) == (colleague, "I spoke to them last week too", agent)
    # A note, not the case: the owner's actions stay the owner's.
    with pytest.raises(PermissionDenied):
        services.case_log_contact(case_id=case.pk, actor=colleague, channel="phone", note="x")


def test_someone_of_another_team_may_not_add_a_note(make_case, other_agent):
    case = make_case()
    with pytest.raises(NotFound):
        services.case_note(case_id=case.pk, actor=other_agent, note="hello")
    assert not case.events.filter(kind=EventKind.NOTE).exists()


# --- who a case may be given to --------------------------------------------------


@pytest.fixture
def people(team, other_team, lead, agent):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    teammate = User.objects.create_user("teammate")
    gone = User.objects.create_user("gone", is_active=False)
    stranger = User.objects.create_user("stranger")
    team.members.add(teammate, gone)
    other_team.members.add(stranger)
    return {"teammate": teammate, "gone": gone, "stranger": stranger}


def owner_options(html: str) -> list[str]:
    select = re.search(r'<select name="reassign-owner".*?</select>', html, re.S).group(0)
    return re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', select)


def test_reassign_lists_only_people_who_may_take_the_case(client, make_case, lead, agent, people):
    case = make_case()
    client.force_login(lead)
    options = owner_options(client.get(f"/cases/{case.pk}/").content.decode())
    # Active members of the case's team, without its current owner.
    assert options == ["lead", "teammate"]


def test_frontline_staff_are_offered_only_themselves_on_an_unassigned_case(client, make_case, agent, people):
    case = make_case(owner=None)
    client.force_login(agent)
    assert owner_options(client.get(f"/cases/{case.pk}/").content.decode()) == ["agent"]


@pytest.mark.parametrize("who", ["gone", "stranger"])
def test_the_service_and_api_refuse_an_owner_who_may_not_take_the_case(api, make_case, lead, people, who):
    case = make_case()
    with pytest.raises(InvalidInput) as exc:
        services.case_reassign(case_id=case.pk, actor=lead, owner=people[who])
    assert exc.value.field == "owner"
    response = api(lead).post(
        f"{URL}{case.pk}/transitions/", {"action": "reassign", "owner": people[who].pk}, format="json"
    )
    assert response.status_code == 400 and "not an active member" in response.json()["owner"][0]
    assert not case.events.filter(kind=EventKind.ASSIGNED, actor=lead).exists()


# --- notes over the limit are refused, not cut ------------------------------------


def test_a_note_over_the_limit_is_refused_by_the_service(make_case, agent):
    case = make_case()
    with pytest.raises(InvalidInput, match=str(NOTE_MAX_CHARS)) as exc:
        services.case_note(case_id=case.pk, actor=agent, note="x" * (NOTE_MAX_CHARS + 1))
    assert exc.value.field == "note"
    services.case_note(case_id=case.pk, actor=agent, note="x" * NOTE_MAX_CHARS)
    assert len(case.events.get(kind=EventKind.NOTE).note) == NOTE_MAX_CHARS


def test_a_note_over_the_limit_is_refused_by_the_api(api, make_case, agent):
    case = make_case()
    body = {"action": "note", "note": "x" * (NOTE_MAX_CHARS + 1)}
    response = api(agent).post(f"{URL}{case.pk}/transitions/", body, format="json")
    assert response.status_code == 400 and "note" in response.json()
    assert not case.events.filter(kind=EventKind.NOTE).exists()


def test_a_note_over_the_limit_is_refused_on_the_page_and_not_cut_by_the_browser(client, make_case, agent):
    case = make_case()
    client.force_login(agent)
    # No maxlength on the textarea: a browser would cut a longer paste silently.
    assert "maxlength" not in client.get(f"/cases/{case.pk}/").content.decode()
    long_note = "y" * (NOTE_MAX_CHARS + 5)
    response = client.post(f"/cases/{case.pk}/act/note/", {"note-note": long_note})
    assert response.status_code == 400
    html = response.content.decode()
    assert f"at most {NOTE_MAX_CHARS:,}".replace(",", "") in html.replace(",", "") and long_note in html
    assert not case.events.filter(kind=EventKind.NOTE).exists()


# --- long words wrap -------------------------------------------------------------


def test_the_stylesheet_wraps_long_words_in_pages_tables_and_notes():
    """Every block that shows people's text breaks a word too long for its
    line: `anywhere`, or in the queue's cells `break-word` (a name breaks only
    when it cannot fit; the browser tests check both at 1366 px and 320 px)."""
    css = re.sub(r"/\*.*?\*/", "", (Path(settings.BASE_DIR) / "static" / "cvx" / "cvx.css").read_text(), flags=re.S)
    rules = re.findall(r"([^{}]+)\{([^}]*overflow-wrap:\s*(anywhere|break-word)[^}]*)\}", css)
    selectors = {s.strip(): wrap for selector, _, wrap in rules for s in selector.split(",")}
    assert {"main", ".note", "table.queue td", "table.data td", ".timeline li"} <= selectors.keys()
    assert {selectors[s] for s in ("main", ".note", "table.data td", ".timeline li")} == {"anywhere"}


# --- a refused form keeps what was entered ----------------------------------------


def test_a_refused_resolve_keeps_the_root_cause_summary_and_checkbox(client, make_case, agent, root_cause):
    case = make_case()
    client.force_login(agent)
    # Refused by the form (no summary): the chosen root cause and the tick stay.
    response = client.post(
        f"/cases/{case.pk}/act/resolve/", {"resolve-root_cause": root_cause.pk, "resolve-unreachable": "on"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(rf'<option value="{root_cause.pk}" selected>', html)
    assert re.search(r'name="resolve-unreachable"[^>]*checked', html)
    # Refused by the service (no contact): the root cause and the summary stay.
    response = client.post(
        f"/cases/{case.pk}/act/resolve/", {"resolve-root_cause": root_cause.pk, "resolve-note": "Replaced the card"}
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert re.search(rf'<option value="{root_cause.pk}" selected>', html)
    assert "Replaced the card</textarea>" in html


def test_a_refused_contact_keeps_the_chosen_channel(client, make_case, agent):
    case = make_case()
    client.force_login(agent)
    response = client.post(f"/cases/{case.pk}/act/log_contact/", {"log_contact-channel": "email"})
    assert response.status_code == 400
    assert re.search(r'<option value="email" selected>', response.content.decode())


def test_internal_notes_stand_apart_on_the_timeline(client, make_case, agent):
    case = make_case()
    services.case_note(case_id=case.pk, actor=agent, note="Customer is a journalist")
    contact(case, agent)
    client.force_login(agent)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    items = re.findall(r"<li( class=\"internal\")?><time", html)
    # opened, assigned, the note, the contact: only the note is internal.
    assert [bool(c) for c in items] == [False, False, True, False]
    assert '<span class="tag">Internal</span>' in html
