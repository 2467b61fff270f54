"""The queue page's forms: a chosen order survives filtering and searching,
and the filters are labelled by what a person picks."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from cases.models import Case

pytestmark = pytest.mark.django_db


def form(html: str, css_class: str) -> str:
    found = re.search(rf'<form method="get" class="{css_class}"[^>]*>(.*?)</form>', html, re.S)
    assert found, css_class
    return found.group(1)


@pytest.mark.parametrize("css_class", ["filter-form", "search-form"])
def test_the_chosen_order_survives_the_filter_and_search_forms(client, make_case, agent, css_class):
    make_case()
    client.force_login(agent)
    url = reverse("cases:queue", args=["mine"])
    sorted_page = client.get(url, {"sort": "priority", "status": "new"}).content.decode()
    assert '<input type="hidden" name="sort" value="priority">' in form(sorted_page, css_class)
    # By due time (the default, or an order the page does not know) the query stays as it was.
    for query in ({}, {"sort": "nonsense"}):
        assert 'name="sort"' not in form(client.get(url, query).content.decode(), css_class)


def test_a_filtered_and_sorted_queue_keeps_both(client, make_case, agent):
    low, urgent, done = make_case(), make_case(), make_case()
    Case.objects.filter(pk=low.pk).update(priority="low")
    Case.objects.filter(pk=urgent.pk).update(priority="urgent")
    Case.objects.filter(pk=done.pk).update(priority="urgent", status="acknowledged")
    client.force_login(agent)
    # What the filter form sends: its fields and the order kept in it.
    html = client.get(reverse("cases:queue", args=["mine"]), {"status": "new", "sort": "priority"}).content.decode()
    rows = html[html.index("<tbody>") :]
    assert rows.index(urgent.number) < rows.index(low.number) and done.number not in rows


def test_the_filters_are_labelled_for_people(client, make_case, agent):
    make_case()
    client.force_login(agent)
    filters = form(client.get(reverse("cases:queue", args=["mine"])).content.decode(), "filter-form")
    labels = re.findall(r"<label[^>]*>([^<]*)</label>", filters)
    assert labels == ["Status:", "Priority:", "Touchpoint:", "Journey:", "Breached:"]
    breached = re.search(r'<select name="breached".*?</select>', filters, re.S).group(0)
    assert re.findall(r">([^<]+)</option>", breached) == ["Any", "Yes", "No"]


def test_breached_reads_the_same_values_on_page_and_api(client, api, make_case, lead):
    from datetime import timedelta

    from django.utils import timezone

    from cases.services import sla_sweep

    late, on_time = make_case(), make_case()
    sla_sweep(now=timezone.now() + timedelta(days=3))
    Case.objects.filter(pk=on_time.pk).update(
        first_contact_breached_at=None, resolution_breached_at=None, due_at=timezone.now() + timedelta(days=9)
    )
    client.force_login(lead)
    for value, shown, hidden in (("true", late, on_time), ("false", on_time, late)):
        page = client.get(reverse("cases:queue", args=["all"]), {"breached": value}).content.decode()
        rows = page[page.index("<tbody>") :]
        listed = [c["id"] for c in api(lead).get("/api/v1/cases/", {"breached": value}).json()["results"]]
        assert listed == [shown.pk]
        assert shown.number in rows and hidden.number not in rows


def test_the_api_still_documents_touchpoint_and_journey_as_slugs(api, agent):
    schema = api(agent).get("/api/v1/schema/", {"format": "json"}).json()
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/cases/"]["get"]["parameters"]}
    assert parameters["touchpoint"]["description"] == "The touchpoint's slug."
    assert parameters["journey"]["description"] == "The journey's slug."
