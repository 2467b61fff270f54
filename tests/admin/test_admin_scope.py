"""The admin shows each person only their scope (issue 14, point 1).

The matrix is built from the admin registry: every registered model that
holds customer data (a customer, their feedback, or a record that points to
one, however indirectly) must have a ScopedAdmin, and is checked for every
role: changelist rows, the raw-id popup, change and history pages of rows in
and out of scope, `?q=` search and /admin/autocomplete/. A model registered
later is in the matrix at once, or fails here until it is classified.

Scope is what the world says, not what a selector says: `care` staff see the
rows `care`'s part of the world made, `stores` staff those of `stores`, CX
admins and superusers both, staff in no team neither.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from cvx_site.admin import ScopedAdmin
from tests.admin.conftest import MARKERS

pytestmark = pytest.mark.django_db

# Where customer data starts: who a customer is and what they said.
CUSTOMER_DATA_ROOTS = {"feedback.Customer", "feedback.FeedbackResponse"}
# Registered models that hold no customer data, each with the reason.
NO_CUSTOMER_DATA = {
    "auth.Group": "roles",
    "auth.User": "staff accounts",
    "authtoken.TokenProxy": "integration tokens",
    "django_q.Schedule": "task schedules",
    "django_q.Success": "tasks: their arguments are ids",
    "django_q.Failure": "tasks: their arguments are ids",
    "django_q.OrmQ": "queued tasks: ids",
    "axes.AccessAttempt": "staff login attempts",
    "axes.AccessLog": "staff logins",
    "axes.AccessFailureLog": "staff login failures",
    "journeys.Journey": "configuration",
    "journeys.Stage": "configuration",
    "journeys.Touchpoint": "configuration",
    "journeys.Team": "configuration",
    "feedback.ContactRule": "configuration",
    "feedback.SurveyDefinition": "configuration",
    "feedback.ImportMapping": "configuration",
    "cases.RoutingRule": "configuration",
    "cases.RootCause": "configuration",
    "feedback.LexiconTerm": "configuration",
    "feedback.IntentPhrase": "configuration",
    "feedback.Topic": "configuration",
    "feedback.LexiconChange": "who changed the lexicon: staff only",
    "cases.ReplyTemplate": "configuration",
    "cases.NotificationPreference": "a person's email choices by notification kind",
    # Inbound email of no case: scoped to CX admins alone (tests/cases/test_inbound_email.py).
    "cases.UnmatchedEmail": "no case, so no team: CX admins only",
    "cases.Webhook": "configuration",
    "cases.ChatChannel": "configuration",
    # Bodies hold customer data of every team but point to no case a team
    # scope could follow: CX admins only (tests/cases/test_webhooks_admin.py).
    "cases.Delivery": "payloads of every team: CX admins only",
}
ALL = frozenset(MARKERS)
NOT_STAFF = None
# Role fixture -> the teams whose data it may see in the admin (NOT_STAFF: no admin at all).
ROLES = {
    "superuser": ALL,
    "cx_admin": ALL,
    "lead": {"care"},
    "other_lead": {"stores"},
    "care_viewer": {"care"},
    "teamless_staff": set(),
    "agent": NOT_STAFF,
    "other_agent": NOT_STAFF,
    "outsider": NOT_STAFF,
    "integration": NOT_STAFF,
    "anonymous": NOT_STAFF,
}


def _forward_relations(model):
    return [f for f in model._meta.get_fields() if f.is_relation and f.concrete and f.related_model]


def holding_customer_data() -> set[str]:
    """Labels of every model that is a root or points to one that holds customer data."""
    found = set(CUSTOMER_DATA_ROOTS)
    grew = True
    while grew:
        grew = False
        for model in apps.get_models():
            label = model._meta.label
            if label not in found and any(f.related_model._meta.label in found for f in _forward_relations(model)):
                found.add(label)
                grew = True
    return found


SCOPED = sorted(m._meta.label for m in admin.site._registry if m._meta.label in holding_customer_data())


def test_every_registered_model_is_scoped_or_holds_no_customer_data():
    sensitive = holding_customer_data()
    unclassified, unscoped = [], []
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label
        if label in sensitive and not isinstance(model_admin, ScopedAdmin):
            unscoped.append(label)
        if label not in sensitive and label not in NO_CUSTOMER_DATA:
            unclassified.append(label)
    assert not unscoped, f"these admins show customer data unscoped (use cvx_site.admin.ScopedAdmin): {unscoped}"
    assert not unclassified, f"classify these admin models in NO_CUSTOMER_DATA or CUSTOMER_DATA_ROOTS: {unclassified}"
    assert {
        "cases.Case",
        "cases.CaseEvent",
        "feedback.Customer",
        "feedback.FeedbackResponse",
        "feedback.SurveyInvitation",
    } <= set(SCOPED)


@pytest.fixture
def as_role(request, client):
    """as_role(name) -> (user or None, logged-in client)."""
    from django.contrib.auth import get_user_model

    def log_in(name: str):
        if name == "anonymous":
            return None, client
        user = request.getfixturevalue(name)
        if name == "integration":  # the fixture gives the token; the account is what logs in
            user = get_user_model().objects.get(username="integration")
        client.force_login(user)
        return user, client

    return log_in


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _pks(response) -> set[int]:
    return set(response.context["cl"].queryset.values_list("pk", flat=True))


def _shows(response, teams) -> set[str]:
    """The teams whose marker the response's body shows."""
    body = response.content.decode().lower()
    return {team for team in teams if MARKERS[team] in body}


def _refused(response) -> bool:
    """Django's answers that show no row: forbidden, not found, or "does not
    exist" (a redirect to the admin index, which shows no row either)."""
    if response.status_code == 302:
        return response["Location"] == reverse("admin:index")
    return response.status_code in (403, 404) and not _shows(response, ALL)


def _autocomplete_sources(model) -> list:
    """Every foreign key (of any model) whose autocomplete would list `model`."""
    return sorted(
        (
            (f.model, f)
            for m in apps.get_models()
            for f in _forward_relations(m)
            if f.related_model is model and (f.many_to_one or f.one_to_one)
        ),
        key=lambda pair: (pair[0]._meta.label, pair[1].name),
    )


def _autocomplete(client, source_model, field, term: str):
    return client.get(
        "/admin/autocomplete/",
        {
            "app_label": source_model._meta.app_label,
            "model_name": source_model._meta.model_name,
            "field_name": field.name,
            "term": term,
        },
    )


@pytest.mark.parametrize("label", SCOPED)
@pytest.mark.parametrize("role", ROLES)
def test_admin_shows_a_role_only_its_scope(role, label, as_role, world_of):
    model = apps.get_model(label)
    world = world_of(SCOPED)
    user, client = as_role(role)
    teams = ROLES[role]
    every_row = world.of(label, ALL)
    urls = [_url(model, "changelist")] + [_url(model, view, pk) for pk in every_row for view in ("change", "history")]
    sources = _autocomplete_sources(model)
    assert sources, f"nothing links to {label}, so its autocomplete is untested: add a source here"
    # Without search_fields Django answers autocomplete with 404 before it looks at who asks.
    searchable = bool(admin.site._registry[model].get_search_fields(None))

    if teams is NOT_STAFF:
        for url in urls:
            response = client.get(url)
            assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url
        for source_model, field in sources:
            response = _autocomplete(client, source_model, field, "")
            assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
        return

    opts = model._meta
    if not (
        user.has_perm(f"{opts.app_label}.view_{opts.model_name}")
        or user.has_perm(f"{opts.app_label}.change_{opts.model_name}")
    ):
        assert client.get(urls[0]).status_code == 403
        for url in urls:
            assert _refused(client.get(url)), url
        for source_model, field in sources:
            assert _autocomplete(client, source_model, field, "").status_code == (403 if searchable else 404)
        return

    mine, theirs = world.of(label, teams), world.of(label, ALL - teams)
    changelist = client.get(_url(model, "changelist"))
    assert changelist.status_code == 200
    assert _pks(changelist) == mine
    assert changelist.context["cl"].full_result_count == len(mine)
    assert not _shows(changelist, ALL - teams)
    popup = client.get(_url(model, "changelist"), {"_popup": "1", "_to_field": "id"})  # the raw-id lookup
    assert popup.status_code == 200 and _pks(popup) == mine

    for pk in mine:
        assert client.get(_url(model, "change", pk)).status_code == 200
        assert client.get(_url(model, "history", pk)).status_code == 200
    for pk in theirs:
        for view in ("change", "history", "delete"):
            response = client.get(_url(model, view, pk))
            assert _refused(response), (view, pk)
            if response.status_code == 302:
                assert not _shows(client.get(response["Location"]), ALL - teams)

    for team, marker in MARKERS.items():
        found = _pks(client.get(_url(model, "changelist"), {"q": marker}))
        assert found <= mine
        if searchable:
            assert bool(found) == (team in teams), f"searching {marker!r} as {role}"

    for source_model, field in sources:
        response = _autocomplete(client, source_model, field, "")
        if not searchable:
            assert response.status_code == 404
            continue
        assert response.status_code == 200
        assert {int(r["id"]) for r in response.json()["results"]} == mine, (source_model, field.name)
        for team, marker in MARKERS.items():
            results = _autocomplete(client, source_model, field, marker).json()["results"]
            assert bool(results) == (team in teams) and {int(r["id"]) for r in results} <= mine


def _admins_with_inlines():
    for model_admin in admin.site._registry.values():
        yield model_admin
        yield from (inline(model_admin.model, admin.site) for inline in model_admin.inlines)


def test_form_choices_to_scoped_models_offer_only_the_users_scope(world_of, lead):
    """Any admin form's foreign key or many-to-many to a scoped model (the
    choices, and so what a POST may name) holds only the user's rows."""
    world = world_of(SCOPED)
    request = RequestFactory().get("/admin/")
    request.user = lead
    checked = []
    for model_admin in _admins_with_inlines():
        for db_field in _forward_relations(model_admin.model):
            if db_field.related_model._meta.label not in SCOPED or db_field.one_to_many:
                continue
            formfield = model_admin.formfield_for_dbfield(db_field, request)
            if formfield is None:
                continue
            label = db_field.related_model._meta.label
            assert set(formfield.queryset.values_list("pk", flat=True)) == world.of(label, {"care"}), (
                f"{type(model_admin).__name__}.{db_field.name}"
            )
            checked.append(f"{model_admin.model._meta.label}.{db_field.name}")
    assert "cases.Case.customer" in checked and "cases.CaseEvent.case" in checked


def test_customer_of_a_case_routed_to_my_team_is_in_my_admin_and_api(
    negative_rule, touchpoint, other_team, other_lead, lead, client, api
):
    """A rule may send a touchpoint's feedback to another team: that team's
    lead then sees the customer (admin and API alike), not the feedback of
    the touchpoint; the touchpoint's own team still sees the feedback."""
    from cases.models import RoutedResponse
    from tests.admin.conftest import ingest

    negative_rule.team = other_team
    negative_rule.save(update_fields=["team"])
    response = ingest(touchpoint=touchpoint, marker="routedzeta", n=1, nps=1)
    case = RoutedResponse.objects.get(response=response).case
    assert case.team == other_team

    client.force_login(other_lead)
    assert _pks(client.get(_url(case.customer, "changelist"))) == {case.customer_id}
    assert _pks(client.get(_url(response, "changelist"))) == set()
    assert _pks(client.get(_url(case, "changelist"))) == {case.pk}
    assert api(other_lead).get(f"/api/v1/customers/{case.customer_id}/").status_code == 200
    client.force_login(lead)
    assert _pks(client.get(_url(case.customer, "changelist"))) == {case.customer_id}
    assert _pks(client.get(_url(response, "changelist"))) == {response.pk}
    assert _pks(client.get(_url(case, "changelist"))) == set()
