"""Who may open what: every API endpoint and every page, for every role.

One test per cell, named role-METHOD-path, so a failure names the cell
(e.g. `lead-GET-/api/v1/cases/{case}/`). The world of each cell is one case
of the `care` team, made the way production makes it (a detractor response
ingested and routed), owned by `agent`; `other_agent` works in `stores` and
sees none of it; `lead` leads `care`; `outsider` is logged in and in no team
or role. `integration` sends its token, which the pages ignore.

Then "lists and details agree": for each role, the ids a list returns are
exactly the ids whose detail that role may open.
"""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "integration", "agent", "other_agent", "lead", "cx_admin", "outsider"]

# Expected outcomes besides a plain status code.
EMPTY = "200, empty"  # a list that answers but shows nothing
LOGIN = "to login"  # a redirect to /accounts/login/
ADMIN_LOGIN = "to admin login"  # a redirect to /admin/login/
DONE = "302 done"  # a page action that worked and redirects elsewhere than a login

FEEDBACK_ITEM = {
    "touchpoint": "fault-line",
    "source": "matrix",
    "external_id": "m-1",
    "nps": 3,
    "comment": "Still no line",
    "customer": {"email": "matrix@example.com"},
}


def _row(*expected) -> dict:
    assert len(expected) == len(ROLES)
    return dict(zip(ROLES, expected))


ALL_READ = _row(401, 200, 200, 200, 200, 200, 200)
CARE_LIST = _row(401, 200, 200, EMPTY, 200, 200, EMPTY)
CARE_DETAIL = _row(401, 200, 200, 404, 200, 200, 404)
PUBLIC = _row(200, 200, 200, 200, 200, 200, 200)

# (method, path template, body, expected by role). Path placeholders are
# filled from the world: {case}, {feedback}, {customer}, {journey},
# {touchpoint}, {token} (a survey invitation's signed link).
API = [
    ("GET", "/api/v1/journeys/", None, ALL_READ),
    ("GET", "/api/v1/journeys/{journey}/", None, ALL_READ),
    ("POST", "/api/v1/journeys/", {"slug": "matrix", "name": "Matrix"}, _row(401, 403, 403, 403, 403, 201, 403)),
    ("GET", "/api/v1/touchpoints/", None, ALL_READ),
    ("GET", "/api/v1/touchpoints/{touchpoint}/", None, ALL_READ),
    ("GET", "/api/v1/feedback/", None, CARE_LIST),
    ("GET", "/api/v1/feedback/{feedback}/", None, CARE_DETAIL),
    ("POST", "/api/v1/feedback/", FEEDBACK_ITEM, _row(401, 201, 403, 403, 403, 201, 403)),
    ("POST", "/api/v1/feedback/bulk/", [FEEDBACK_ITEM], _row(401, 200, 403, 403, 403, 200, 403)),
    ("GET", "/api/v1/feedback/themes/", None, ALL_READ),
    ("GET", "/api/v1/customers/", None, CARE_LIST),
    ("GET", "/api/v1/customers/{customer}/", None, CARE_DETAIL),
    ("GET", "/api/v1/cases/", None, CARE_LIST),
    ("GET", "/api/v1/cases/{case}/", None, CARE_DETAIL),
    ("GET", "/api/v1/cases/{case}/events/", None, CARE_DETAIL),
    # Integrations see every case but may not act on one.
    ("POST", "/api/v1/cases/{case}/transitions/", {"action": "acknowledge"}, _row(401, 403, 200, 404, 200, 200, 404)),
    ("GET", "/api/v1/metrics/", None, ALL_READ),
    ("GET", "/api/v1/metrics/root-causes/", None, ALL_READ),
    ("GET", "/api/v1/metrics/touchpoints/{touchpoint}/value-chain/", None, CARE_DETAIL),
    ("GET", "/api/v1/pillars/?touchpoint={touchpoint}", None, CARE_DETAIL),
    ("GET", "/api/v1/schema/", None, PUBLIC),
    ("GET", "/api/v1/docs/", None, PUBLIC),
]

ANY_LOGIN = _row(LOGIN, LOGIN, 200, 200, 200, 200, 200)
MANAGERS = _row(LOGIN, LOGIN, 403, 403, 200, 200, 403)
PAGES = [
    ("GET", "/cases/queue/mine/", None, ANY_LOGIN),
    ("GET", "/cases/queue/team/", None, ANY_LOGIN),
    ("GET", "/cases/queue/all/", None, MANAGERS),
    ("GET", "/cases/{case}/", None, _row(LOGIN, LOGIN, 200, 404, 200, 200, 404)),
    ("POST", "/cases/{case}/act/note/", {"note-note": "Called back."}, _row(LOGIN, LOGIN, DONE, 404, DONE, DONE, 404)),
    ("GET", "/cases/audit/", None, MANAGERS),
    ("GET", "/cases/audit/export.csv", None, MANAGERS),
    ("GET", "/cases/audit/verify/", None, MANAGERS),
    ("GET", "/cases/metrics/", None, MANAGERS),
    (
        "POST",
        "/cases/bulk-reassign/",
        {"case": "{case}", "owner": "{agent}"},
        _row(LOGIN, LOGIN, 403, 403, DONE, DONE, 403),
    ),
    ("GET", "/cases/insights/", None, MANAGERS),
    ("GET", "/cases/insights/journeys/{journey}/map/", None, MANAGERS),
    ("GET", "/cases/insights/journeys/{journey}/", None, MANAGERS),
    ("GET", "/cases/insights/touchpoints/{touchpoint}/", None, MANAGERS),
    ("GET", "/cases/insights/root-causes/", None, MANAGERS),
    ("GET", "/cases/insights/pillars/?journey={journey}", None, MANAGERS),
    ("GET", "/admin/", None, _row(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200, 200, ADMIN_LOGIN)),
    # The public survey page: no login, the signed link is the credential.
    ("GET", "/s/{token}/", None, PUBLIC),
    ("GET", "/s/not-a-signed-link/", None, _row(404, 404, 404, 404, 404, 404, 404)),
]

CELLS = [
    pytest.param(kind, role, method, path, body, expected[role], id=f"{role}-{method}-{path}")
    for kind, rows in (("api", API), ("page", PAGES))
    for method, path, body, expected in rows
    for role in ROLES
]


@pytest.fixture
def world(make_case, root_cause, agent, other_agent, lead, cx_admin, outsider, integration):
    from feedback.choices import SurveyPurpose
    from feedback.surveys import invitation_create, invitation_token

    case = make_case()
    invitation = invitation_create(customer=case.customer, touchpoint=case.touchpoint, purpose=SurveyPurpose.FOLLOW_UP)
    return {
        "ids": {
            "case": case.pk,
            "feedback": case.feedback_id,
            "customer": case.customer_id,
            "journey": case.journey.slug,
            "touchpoint": case.touchpoint.slug,
            "agent": agent.pk,
            "token": invitation_token(invitation),
        },
        "users": {"agent": agent, "other_agent": other_agent, "lead": lead, "cx_admin": cx_admin, "outsider": outsider},
        "token": integration,
    }


def _client(kind: str, role: str, world: dict):
    client = APIClient() if kind == "api" else Client()
    if role == "integration":
        if kind == "api":
            client.credentials(HTTP_AUTHORIZATION=f"Token {world['token']}")
        else:
            client.defaults["HTTP_AUTHORIZATION"] = f"Token {world['token']}"
    elif role != "anonymous":
        client.force_login(world["users"][role])
    return client


def _fill(value, ids: dict):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def _outcome(response):
    """The response in the matrix's terms."""
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith("/accounts/login/"):
            return LOGIN
        if location.startswith("/admin/login/"):
            return ADMIN_LOGIN
        return DONE
    if response.status_code == 200 and response.get("Content-Type", "").startswith("application/json"):
        data = response.json()
        if isinstance(data, dict) and "results" in data and not data["results"]:
            return EMPTY
    return response.status_code


@pytest.mark.parametrize(("kind", "role", "method", "path", "body", "expected"), CELLS)
def test_access(world, kind, role, method, path, body, expected):
    client = _client(kind, role, world)
    url, data = _fill(path, world["ids"]), _fill(body, world["ids"])
    if method == "GET":
        response = client.get(url)
    elif kind == "api":
        response = client.post(url, data, format="json")
    else:
        response = client.post(url, data)
    assert _outcome(response) == expected, (url, response.status_code, response.content[:300])


# --- lists and details agree ------------------------------------------------------


@pytest.fixture
def crowd(make_case, root_cause, agent, other_agent, lead, cx_admin, outsider, integration):
    """Cases of both teams, owned and unassigned, plus feedback that opened no
    case and anonymous feedback; customers at one team or at both."""
    from feedback.services import feedback_ingest
    from journeys.models import Team, Touchpoint

    fault_line = Touchpoint.objects.get(slug="fault-line")
    Touchpoint.objects.create(
        stage=fault_line.stage,
        name="Store",
        slug="store",
        channel="store",
        team=Team.objects.get(slug="stores"),
        default_owner=other_agent,
    )
    make_case()
    make_case(owner=None)
    make_case(touchpoint="store", customer={"email": "both@example.com"})
    make_case(customer={"email": "both@example.com"}, comment="And the line too")
    for n, (slug, customer) in enumerate(
        [("fault-line", {"phone": "+441234567"}), ("store", None), ("store", {"email": "stores-only@example.com"})]
    ):
        outcome = feedback_ingest(
            item={
                "touchpoint": slug,
                "source": "crowd",
                "external_id": f"c{n}",
                "nps": 10,
                "comment": "Lovely",
                "customer": customer,
            }
        )
        assert outcome.status == "created", outcome.errors
    return {
        "users": {"agent": agent, "other_agent": other_agent, "lead": lead, "cx_admin": cx_admin, "outsider": outsider},
        "token": integration,
    }


def _listed(client, url: str) -> list[int]:
    ids = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        ids += [item["id"] for item in response.json()["results"]]
        url = response.json()["next"]
    return ids


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
@pytest.mark.parametrize("resource", ["cases", "feedback", "customers"])
def test_lists_and_details_agree(crowd, resource, role):
    from cases.models import Case
    from feedback.models import Customer, FeedbackResponse

    model = {"cases": Case, "feedback": FeedbackResponse, "customers": Customer}[resource]
    client = _client("api", role, crowd)
    listed = _listed(client, f"/api/v1/{resource}/?page_size=2")
    assert len(listed) == len(set(listed)), "a list showed an item twice"
    openable = set()
    for pk in model.objects.values_list("pk", flat=True):
        status = client.get(f"/api/v1/{resource}/{pk}/").status_code
        assert status in (200, 404), (pk, status)
        if status == 200:
            openable.add(pk)
    assert set(listed) == openable
    assert model.objects.count() > len(openable) or role in ("integration", "cx_admin")
