"""One rule decides who sees which case (cases.selectors.cases_in_scope):
for every kind of caller, the lists (API and queue pages), the details (API
and page), a transition (API) and the services' locking query give the same
answer, and what the API and the page offer to do is what the service lets
the caller do."""

from __future__ import annotations

import pytest
from django.db import transaction

from cases import policy
from cases.models import Case
from cases.persistence import lock_case
from cases.selectors import cases_visible_to

pytestmark = pytest.mark.django_db

# Which of the three cases (`own`: care's, the agent's; `unassigned`: care's,
# nobody's; `stores`: the other team's) each kind of caller may see.
SEES = {
    "agent": {"own", "unassigned"},
    "other_agent": {"stores"},
    "lead": {"own", "unassigned"},
    "lead_only": {"own", "unassigned"},
    "cx_admin": {"own", "unassigned", "stores"},
    "outsider": set(),
    "integration_user": {"own", "unassigned", "stores"},
    "staff_without_team": set(),
    "anonymous": set(),
}


@pytest.fixture
def world(make_case, other_team):
    cases = {"own": make_case(), "unassigned": make_case(owner=None), "stores": make_case(owner=None)}
    Case.objects.filter(pk=cases["stores"].pk).update(team=other_team)
    return {name: Case.objects.get(pk=case.pk) for name, case in cases.items()}


@pytest.fixture
def clients(caller, api, integration):
    """(API client, page client) of the caller: the integration by its
    token, people by their session, nobody for `anonymous`."""
    name, user = caller
    if name == "anonymous":
        return api(), api()
    if name == "integration_user":
        return api(token=integration), api(user)
    return api(user), api(user)


def _api_list(client) -> set[int] | None:
    response = client.get("/api/v1/cases/", {"page_size": 200})
    if response.status_code in (401, 403):
        return None
    assert response.status_code == 200
    assert response.data["next"] is None
    return {item["id"] for item in response.data["results"]}


def _queue_pages(client) -> dict[str, set[int] | int]:
    """The case ids on each queue page the caller may open, else its status."""
    shown = {}
    for queue in ("mine", "team", "all"):
        response = client.get(f"/cases/queue/{queue}/")
        shown[queue] = (
            {c.pk for c in response.context["page"].items} if response.status_code == 200 else response.status_code
        )
    return shown


def test_the_rule_is_as_documented(world, caller):
    name, user = caller
    ids = {case.pk: key for key, case in world.items()}
    assert {ids[pk] for pk in cases_visible_to(user).values_list("pk", flat=True)} == SEES[name]


def test_lists_show_exactly_the_visible_cases(world, caller, clients):
    name, user = caller
    api_client, page_client = clients
    visible = {world[key].pk for key in SEES[name]}

    listed = _api_list(api_client)
    assert listed == (None if name == "anonymous" else visible)

    pages = _queue_pages(page_client)
    if name == "anonymous":
        assert all(status == 302 for status in pages.values())  # to the login page
        return
    shown = [ids for ids in pages.values() if isinstance(ids, set)]
    assert shown, name  # mine and team open for everyone signed in
    assert set().union(*shown) <= visible
    if isinstance(pages["all"], set):  # managers: all they may see
        assert pages["all"] == visible
    else:
        assert pages["all"] == 403


def test_details_transitions_and_the_lock_agree(world, caller, clients):
    name, user = caller
    api_client, page_client = clients
    for key, case in world.items():
        visible = key in SEES[name]
        where = (name, key)

        detail = api_client.get(f"/api/v1/cases/{case.pk}/")
        page = page_client.get(f"/cases/{case.pk}/")
        with transaction.atomic():
            locked, member = lock_case(case.pk, user)
        if name == "anonymous":
            assert detail.status_code in (401, 403) and page.status_code == 302, where
            assert locked is None, where
            continue
        assert detail.status_code == (200 if visible else 404), where
        assert page.status_code == (200 if visible else 404), where
        assert (locked is not None) == visible, where

        note = api_client.post(
            f"/api/v1/cases/{case.pk}/transitions/", {"action": "note", "note": "Checked"}, format="json"
        )
        if not visible:
            assert note.status_code == 404, where
            continue
        # What the API and the page offer is what the service allows on the locked row.
        offered = detail.data["actions"]
        assert offered == policy.allowed_actions(user, locked, member=member), where
        assert [action for action, _, _ in page.context["action_forms"]] == offered, where
        assert note.status_code == (200 if "note" in offered else 403), where
