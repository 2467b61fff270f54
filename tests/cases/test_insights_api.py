"""The Pareto of root causes and the chain of CX value over the API."""

from __future__ import annotations

import pytest

from cases import services
from cases.insights.queries import root_cause_pareto, value_chain
from cases.models import Case, RootCause
from feedback.models import FeedbackResponse

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved_cases(make_case, agent, root_cause):
    other = RootCause.objects.create(name="Billing", parent=root_cause.parent)
    for n, cause in enumerate([root_cause, root_cause, other]):
        case = make_case(comment=f"problem {n}")
        services.case_log_contact(case_id=case.pk, actor=agent, channel="phone", note="Called the customer")
        services.case_resolve(case_id=case.pk, actor=agent, root_cause=cause, note=f"fixed {n}")
    return Case.objects.all()


def test_pareto_over_the_api_equals_the_page_figures(api, lead, resolved_cases):
    response = api(lead).get("/api/v1/metrics/root-causes/")
    assert response.status_code == 200
    rows = response.json()
    assert [(r["root_cause"], r["cases"], r["cumulative_pct"]) for r in rows] == [
        ("Network › Line fault", 2, 66.7),
        ("Network › Billing", 1, 100.0),
    ]
    assert rows == root_cause_pareto(resolved_cases, None, None)


def test_pareto_is_scoped_and_validated(api, other_agent, lead, resolved_cases):
    assert api(other_agent).get("/api/v1/metrics/root-causes/").json() == []
    bad = api(lead).get("/api/v1/metrics/root-causes/", {"since": "2026-05-02", "until": "2026-05-01"})
    assert bad.status_code == 400 and "until" in bad.json()
    assert api().get("/api/v1/metrics/root-causes/").status_code == 401


def test_value_chain_over_the_api(api, integration, lead, other_agent, resolved_cases, touchpoint):
    url = f"/api/v1/metrics/touchpoints/{touchpoint.slug}/value-chain/"
    data = api(token=integration).get(url).json()
    expected = value_chain(touchpoint, FeedbackResponse.objects.all(), Case.objects.all())
    assert data["customers"] == expected["customers"] == 3
    assert [c["key"] for c in data["cohorts"]] == [c["key"] for c in expected["cohorts"]]
    assert api(lead).get(url).status_code == 200
    assert api(other_agent).get(url).status_code == 404
    assert api(lead).get("/api/v1/metrics/touchpoints/nope/value-chain/").status_code == 404
