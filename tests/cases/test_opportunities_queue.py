"""Opportunities have their own queue (issue 19): frontline staff see their
teams' open opportunities there, scoped by the same selectors; the complaint
queues and their counts never show one; the API says a case's kind and
filters by it; the case page shows kind and amount."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.choices import CaseKind, CaseStatus, OpportunityKind
from cases.models import Case
from cases.selectors import queue
from cases.services import transitions

pytestmark = pytest.mark.django_db


@pytest.fixture
def promoter_rule(promoter_rule):
    """The shared rule, opening upsell opportunities here."""
    promoter_rule.opportunity_kind = OpportunityKind.UPSELL
    promoter_rule.save(update_fields=["opportunity_kind"])
    return promoter_rule


@pytest.fixture
def both(make_case, promoter_rule):
    """A complaint and an opportunity at `touchpoint` (team `team`), both owned by `agent`."""
    complaint = make_case()
    opportunity = make_case(nps=10, comment="Superb")
    assert opportunity.kind == CaseKind.OPPORTUNITY
    return complaint, opportunity


COMPLAINT_QUEUES = ("mine", "recent", "follow_up", "closed", "team", "all")


def test_the_opportunities_queue_holds_only_open_opportunities(both, agent, lead):
    complaint, opportunity = both
    transitions.case_note(case_id=complaint.pk, actor=agent, note="seen")
    transitions.case_note(case_id=opportunity.pk, actor=agent, note="seen")
    assert list(queue(agent, "opportunities")) == [opportunity]
    assert list(queue(lead, "opportunities")) == [opportunity]
    for name in COMPLAINT_QUEUES:
        assert opportunity not in queue(agent, name), name
        assert opportunity not in queue(lead, name), name
    assert complaint in queue(agent, "mine") and complaint in queue(lead, "all")


def test_an_ended_opportunity_leaves_the_queue_and_no_complaint_queue_takes_it(both, agent):
    _, opportunity = both
    transitions.case_no_answer(case_id=opportunity.pk, actor=agent)
    for name in ("opportunities", *COMPLAINT_QUEUES):
        assert opportunity not in queue(agent, name), name


def test_another_teams_agent_sees_no_opportunity_of_ours(both, other_agent, outsider):
    assert not queue(other_agent, "opportunities").exists()
    assert not queue(outsider, "opportunities").exists()


def test_the_page_lists_them_25_a_page_and_the_nav_links_it(make_case, promoter_rule, agent, client):
    made = [make_case(nps=9, comment="Great") for _ in range(26)]
    client.force_login(agent)
    url = reverse("cases:queue", args=["opportunities"])
    first = client.get(url)
    assert first.status_code == 200
    shown = [c.pk for c in first.context["page"].items]
    assert len(shown) == 25 and set(shown) <= {c.pk for c in made}
    html = first.content.decode()
    assert f'href="{url}"' in html and 'aria-current="page">Opportunities' in html
    second = client.get(f"{url}?after={first.context['page'].next_cursor}")
    assert len(second.context["page"].items) == 1


def test_complaint_queue_pages_and_their_counts_leave_opportunities_out(both, agent, lead, client):
    complaint, opportunity = both
    client.force_login(lead)
    page = client.get(reverse("cases:queue", args=["all"]))
    assert [c.pk for c in page.context["page"].items] == [complaint.pk]
    assert dict((v, n) for v, _, n in page.context["counts"]) == {CaseStatus.NEW: "1"}
    client.force_login(agent)
    mine = client.get(reverse("cases:queue", args=["mine"]))
    assert [c.pk for c in mine.context["page"].items] == [complaint.pk]
    assert opportunity.number not in mine.content.decode()


def test_the_api_says_kind_and_amount_and_filters_by_kind(both, agent, api, outsider):
    complaint, opportunity = both
    transitions.case_log_contact(case_id=opportunity.pk, actor=agent, channel="phone", note="Offered the upgrade")
    transitions.case_win(case_id=opportunity.pk, actor=agent, amount="480")
    client = api(agent)
    everything = client.get("/api/v1/cases/").json()["results"]
    assert {c["id"] for c in everything} == {complaint.pk, opportunity.pk}  # unset: both, as before
    by_id = {c["id"]: c for c in everything}
    assert (by_id[opportunity.pk]["kind"], by_id[opportunity.pk]["opportunity_kind"]) == ("opportunity", "upsell")
    assert by_id[opportunity.pk]["amount"] == "480.00" and by_id[opportunity.pk]["status"] == "won"
    assert (by_id[complaint.pk]["kind"], by_id[complaint.pk]["opportunity_kind"], by_id[complaint.pk]["amount"]) == (
        "complaint",
        "",
        None,
    )
    only = client.get("/api/v1/cases/?kind=opportunity").json()["results"]
    assert [c["id"] for c in only] == [opportunity.pk]
    assert [c["id"] for c in client.get("/api/v1/cases/?kind=complaint").json()["results"]] == [complaint.pk]
    bad = client.get("/api/v1/cases/?kind=praise")
    assert bad.status_code == 400 and "kind" in bad.json()
    assert api(outsider).get("/api/v1/cases/?kind=opportunity").json()["results"] == []


def test_the_case_page_shows_kind_and_amount(both, agent, client):
    complaint, opportunity = both
    transitions.case_log_contact(case_id=opportunity.pk, actor=agent, channel="phone", note="Offered the upgrade")
    transitions.case_win(case_id=opportunity.pk, actor=agent, amount="1200.5")
    client.force_login(agent)
    html = client.get(reverse("cases:detail", args=[opportunity.pk])).content.decode()
    assert "Opportunity: Upsell" in html and "1200.50" in html and "Amount won" in html
    assert "SLA breached" not in html
    html = client.get(reverse("cases:detail", args=[complaint.pk])).content.decode()
    assert "<dd>Complaint</dd>" in html and "Amount won" not in html


def test_an_overdue_opportunity_is_not_breached(both):
    from datetime import timedelta

    from django.utils import timezone

    from cases.selectors import breached

    complaint, opportunity = both
    Case.objects.update(due_at=timezone.now() - timedelta(hours=1))
    assert list(breached(Case.objects.all())) == [complaint]
    assert not Case.objects.get(pk=opportunity.pk).is_breached
