"""Fixtures for the cases tests: a root cause, the detractor rule and cases
made the way production makes them (ingest, then route). The teardown that
lets transactional tests on PostgreSQL flush the append-only audit table,
`pg_audit_cleanup`, lives in tests/conftest.py (the browser tests use it too)."""

from __future__ import annotations

import itertools

import pytest
from django.db import connections

# Marks "the touchpoint's default owner" in make_case; None means unassigned.
_TOUCHPOINT_DEFAULT = object()


@pytest.fixture
def root_cause(db):
    from cases.models import RootCause

    network = RootCause.objects.create(name="Network")
    return RootCause.objects.create(name="Line fault", parent=network)


@pytest.fixture
def detractor_rule(db):
    from cases.choices import AssignmentStrategy
    from cases.models import RoutingRule

    return RoutingRule.objects.create(
        name="Detractors", position=10, nps_at_most=6, strategy=AssignmentStrategy.DEFAULT_OWNER
    )


@pytest.fixture
def promoter_rule(db, touchpoint):
    """Promoters (NPS 9-10) at "fault-line" open a referral opportunity."""
    from cases.choices import CaseKind, OpportunityKind
    from cases.models import RoutingRule

    rule = RoutingRule.objects.create(
        name="Promoters ask for a referral",
        position=20,
        nps_at_least=9,
        opens=CaseKind.OPPORTUNITY,
        opportunity_kind=OpportunityKind.REFERRAL,
    )
    rule.touchpoints.set([touchpoint])
    return rule


@pytest.fixture
def make_case(detractor_rule, touchpoint):
    """make_case(owner=..., **item) -> Case: ingest a detractor response at
    "fault-line" from a new customer and route it. The owner is the
    touchpoint's default owner (`agent`) unless `owner` says otherwise (None:
    unassigned); `item` overrides fields of the ingested item.

    The case arrives settled: the after-commit work of its making (the
    routing task, the assignment email) is not left queued for a test that
    captures on-commit callbacks around a later action. In a transactional
    test that work has already run at commit."""
    from cases.models import RoutedResponse
    from cases.services import response_route
    from feedback.services import feedback_ingest
    from journeys.models import Touchpoint

    numbers = itertools.count(1)

    def make(*, owner=_TOUCHPOINT_DEFAULT, **item):
        n = next(numbers)
        item = {
            "touchpoint": "fault-line",
            "source": "survey",
            "external_id": f"make-case-{n}",
            "nps": 2,
            "comment": "The line dropped again",
            "customer": {"email": f"make-case-{n}@example.com"},
            **item,
        }
        default_owner_id = touchpoint.default_owner_id
        connection = connections["default"]
        queued_before = len(connection.run_on_commit)
        if owner is not _TOUCHPOINT_DEFAULT:
            Touchpoint.objects.filter(pk=touchpoint.pk).update(default_owner=owner)
        try:
            outcome = feedback_ingest(item=item)
            assert outcome.status == "created", outcome.errors
            # In a transactional test the ingest's own routing task has already
            # run after commit; routing again is then a no-op.
            response_route(response_id=outcome.response.pk)
        finally:
            Touchpoint.objects.filter(pk=touchpoint.pk).update(default_owner=default_owner_id)
        del connection.run_on_commit[queued_before:]
        case = RoutedResponse.objects.select_related("case").get(response=outcome.response).case
        assert case is not None, "the detractor rule did not route the response to a case"
        return case

    return make


# --- every kind of caller, for the tests that hold the access rule to one answer ----

# The people of tests/conftest.py, and those the rule must also get right: a
# lead who is not a member of the team they lead, the integration's service
# user, staff in no team, and no one signed in.
ROLES = (
    "agent",
    "other_agent",
    "lead",
    "lead_only",
    "cx_admin",
    "outsider",
    "integration_user",
    "staff_without_team",
    "anonymous",
)


@pytest.fixture
def lead_only(team, django_user_model):
    """Leads the team without being one of its members."""
    user = django_user_model.objects.create_user("lead_only")
    team.lead = user
    team.save(update_fields=["lead"])
    return user


@pytest.fixture
def integration_user(integration, django_user_model):
    """The service user behind the `integration` token."""
    return django_user_model.objects.get(auth_token__key=integration)


@pytest.fixture
def staff_without_team(db):
    from journeys.roles import TEAM_LEAD
    from tests.conftest import _make_user

    return _make_user("staff", TEAM_LEAD, staff=True)


@pytest.fixture
def anonymous():
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


@pytest.fixture(params=ROLES)
def caller(request):
    """(role name, user), once for each of ROLES."""
    return request.param, request.getfixturevalue(request.param)
