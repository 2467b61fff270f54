"""Each role's access to each page, and the page actions going through the services."""

from __future__ import annotations

import csv
import io

import pytest

from cases.choices import CaseStatus, EventKind
from cases.models import Case, CaseEvent

pytestmark = pytest.mark.django_db
ROLES = ["agent", "other_agent", "lead", "cx_admin", "outsider"]


@pytest.fixture
def as_role(client, request):
    def login(role: str):
        client.force_login(request.getfixturevalue(role))
        return client

    return login


@pytest.mark.parametrize(
    "url",
    [
        "/cases/queue/mine/",
        "/cases/queue/team/",
        "/cases/queue/all/",
        "/cases/audit/",
        "/cases/audit/export.csv",
        "/cases/audit/verify/",
        "/cases/",
    ],
)
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("role", "mine", "team_queue", "all_cases", "audit"),
    [
        ("agent", 200, 200, 403, 403),
        ("other_agent", 200, 200, 403, 403),
        ("outsider", 200, 200, 403, 403),
        ("lead", 200, 200, 200, 200),
        ("cx_admin", 200, 200, 200, 200),
    ],
)
def test_page_access_by_role(as_role, make_case, role, mine, team_queue, all_cases, audit):
    make_case()
    client = as_role(role)
    assert client.get("/cases/queue/mine/").status_code == mine
    assert client.get("/cases/queue/team/").status_code == team_queue
    assert client.get("/cases/queue/all/").status_code == all_cases
    assert client.get("/cases/audit/").status_code == audit
    assert client.get("/cases/audit/export.csv").status_code == audit
    assert client.get("/cases/audit/verify/").status_code == audit


@pytest.mark.parametrize(
    ("role", "status"), [("agent", 200), ("lead", 200), ("cx_admin", 200), ("other_agent", 404), ("outsider", 404)]
)
def test_case_page_access_by_role(as_role, make_case, role, status):
    case = make_case(comment="The router died on Sunday")
    response = as_role(role).get(f"/cases/{case.pk}/")
    assert response.status_code == status
    assert (b"The router died on Sunday" in response.content) is (status == 200)


def test_login_lands_on_my_queue(client, agent):
    response = client.post("/accounts/login/", {"username": "agent", "password": "a-Long-test-passw0rd"}, follow=True)
    assert response.redirect_chain[-1][0] == "/cases/queue/mine/"
    assert b"My queue" in response.content


def test_my_queue_lists_my_open_cases_with_counts(as_role, make_case, lead):
    mine, unassigned = make_case(), make_case(owner=None)
    body = as_role("agent").get("/cases/queue/mine/").content.decode()
    assert mine.number in body and unassigned.number not in body
    assert "New <b>1</b>" in body


def test_team_queue_lists_unassigned_cases_of_my_teams(as_role, make_case):
    mine, unassigned = make_case(), make_case(owner=None)
    body = as_role("agent").get("/cases/queue/team/").content.decode()
    assert unassigned.number in body and mine.number not in body
    assert unassigned.number not in as_role("other_agent").get("/cases/queue/team/").content.decode()


def test_keyset_pages_cover_every_case_once(as_role, make_case):
    cases = [make_case() for _ in range(30)]
    client = as_role("agent")
    first = client.get("/cases/queue/mine/")
    seen = [c.pk for c in first.context["page"].items]
    cursor = first.context["page"].next_cursor
    assert len(seen) == 25 and cursor
    second = client.get("/cases/queue/mine/", {"after": cursor})
    seen += [c.pk for c in second.context["page"].items]
    assert second.context["page"].next_cursor is None
    assert seen == list(Case.objects.order_by("due_at", "id").values_list("pk", flat=True))
    assert len(set(seen)) == len(cases)


def test_a_garbled_cursor_shows_the_first_page(as_role, make_case):
    make_case()
    response = as_role("agent").get("/cases/queue/mine/", {"after": "%%%not-a-cursor"})
    assert response.status_code == 200 and len(response.context["page"].items) == 1


def test_queue_filters_and_bad_filter_values(as_role, make_case):
    case = make_case()
    client = as_role("agent")
    assert case.number in client.get("/cases/queue/mine/", {"priority": "normal"}).content.decode()
    assert case.number not in client.get("/cases/queue/mine/", {"priority": "low"}).content.decode()
    bad = client.get("/cases/queue/mine/", {"priority": "whenever"})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()


def test_case_page_offers_only_allowed_actions(as_role, make_case):
    case = make_case()
    body = as_role("agent").get(f"/cases/{case.pk}/").content.decode()
    assert f"/cases/{case.pk}/act/log_contact/" in body and f"/cases/{case.pk}/act/resolve/" in body
    assert f"/cases/{case.pk}/act/cancel/" not in body and f"/cases/{case.pk}/act/reopen/" not in body


def test_acting_from_the_page_calls_the_service(as_role, make_case):
    case = make_case()
    response = as_role("agent").post(
        f"/cases/{case.pk}/act/log_contact/", {"log_contact-channel": "phone", "log_contact-note": "Refund agreed"}
    )
    assert response.status_code == 302
    event = CaseEvent.objects.filter(case=case).order_by("-seq").first()
    assert (event.kind, event.note, event.data) == (EventKind.CONTACTED, "Refund agreed", {"channel": "phone"})


def test_a_missing_field_is_shown_next_to_it_and_nothing_changes(as_role, make_case):
    case = make_case()
    response = as_role("agent").post(f"/cases/{case.pk}/act/resolve/", {"resolve-note": "done"})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW


def test_a_forced_forbidden_action_answers_with_a_message_not_a_500(as_role, make_case):
    case = make_case()
    forbidden = as_role("agent").post(f"/cases/{case.pk}/act/cancel/", {"cancel-note": "bye"})
    assert forbidden.status_code == 403 and "may not cancel" in forbidden.content.decode()
    conflict = as_role("lead").post(f"/cases/{case.pk}/act/reopen/", {"reopen-note": "why"})
    assert conflict.status_code == 409 and "cannot be reopened" in conflict.content.decode()
    assert as_role("agent").post(f"/cases/{case.pk}/act/teleport/").status_code == 404
    assert as_role("outsider").post(f"/cases/{case.pk}/act/note/", {"note-note": "hi"}).status_code == 404
    assert case.events.count() == 2


def test_frontline_takes_an_unassigned_case(as_role, make_case, agent):
    case = make_case(owner=None)
    assert as_role("agent").post(f"/cases/{case.pk}/act/take/").status_code == 302
    case.refresh_from_db()
    assert case.owner == agent


def test_comments_are_escaped(as_role, make_case):
    case = make_case(comment="<script>alert('x')</script> rude")
    body = as_role("agent").get(f"/cases/{case.pk}/").content.decode()
    assert "<script>alert" not in body and "&lt;script&gt;alert" in body


def test_bulk_reassign_goes_through_the_service_per_case(as_role, make_case, lead, team):
    from django.contrib.auth import get_user_model

    colleague = get_user_model().objects.create_user("colleague")
    team.members.add(colleague)
    a, b = make_case(), make_case()
    response = as_role("lead").post("/cases/bulk-reassign/", {"case": [a.pk, b.pk], "owner": colleague.pk})
    assert response.status_code == 302
    for case in (a, b):
        case.refresh_from_db()
        assert case.owner == colleague
        assert case.events.filter(kind=EventKind.ASSIGNED, actor=lead).count() == 1


def test_bulk_reassign_reports_cases_it_could_not_move(as_role, make_case, other_agent):
    a = make_case()
    # A CX admin may pick anyone in a team; other_agent is not in this case's.
    response = as_role("cx_admin").post("/cases/bulk-reassign/", {"case": [a.pk], "owner": other_agent.pk}, follow=True)
    assert "not an active member" in response.content.decode()
    a.refresh_from_db()
    assert a.owner.username == "agent"


def test_frontline_cannot_bulk_reassign(as_role, make_case, agent):
    a = make_case()
    assert as_role("agent").post("/cases/bulk-reassign/", {"case": [a.pk], "owner": agent.pk}).status_code == 403


def test_audit_trail_filters_and_csv_export(as_role, make_case, agent):
    from cases.services import case_note

    a, b = make_case(), make_case()
    case_note(case_id=a.pk, actor=agent, note="Called twice")
    client = as_role("lead")
    body = client.get("/cases/audit/", {"case": a.number, "actor": "agent"}).content.decode()
    assert "Called twice" in body and b.number not in body
    export = client.get("/cases/audit/export.csv", {"case": a.number})
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert rows[0][:5] == ["case", "seq", "at", "kind", "actor"]
    assert [r[3] for r in rows[1:]] == ["case.note", "case.assigned", "case.opened"]


def test_audit_filter_errors_are_shown_on_the_field(as_role):
    response = as_role("lead").get("/cases/audit/", {"case": "banana"})
    assert "Enter a case number like CX-000042." in response.content.decode()


def test_audit_is_scoped_to_the_leads_teams(as_role, make_case, other_team):
    from django.contrib.auth import get_user_model

    case = make_case()
    other_lead = get_user_model().objects.create_user("other_lead")
    other_team.lead = other_lead
    other_team.save()
    from django.test import Client

    client = Client()
    client.force_login(other_lead)
    assert case.number not in client.get("/cases/audit/").content.decode()


def test_audit_verification_page_reports_intact_chains(as_role, make_case, django_capture_on_commit_callbacks):
    make_case()
    client = as_role("cx_admin")
    with django_capture_on_commit_callbacks(execute=True):  # verification runs in the background
        client.post("/cases/audit/verify/")
    body = client.get("/cases/audit/verify/").content.decode()
    assert "Intact: 1 case(s) and 2 event(s) verified" in body
