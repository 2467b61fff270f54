"""Case filters shared by the API and the queue pages."""

from __future__ import annotations

from functools import partial

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.choices import CallableChoiceIterator

from cases.choices import CaseKind, CaseStatus, Priority
from cases.models import Case
from cases.selectors import breached, search, search_problem
from cvx_site.inputs import parse_id
from journeys.models import Journey, Touchpoint


def _owner_value(value: str) -> None:
    # A user id no table can hold is refused here (400 on the API, an empty
    # queue on the pages), the same on both databases; SQLite would raise
    # OverflowError at the query.
    if value not in ("me", "none") and parse_id(value) is None:
        raise ValidationError("Use `me`, `none` or a user id.")


def _search_text(value: str) -> None:
    problem = search_problem(value)
    if problem is not None:
        raise ValidationError(f"The search {problem}.")


def _named_choices(model, empty: str) -> list[tuple[str, str]]:
    return [("", empty), *model.objects.order_by("name").values_list("slug", "name")]


class _ReadOnce(CallableChoiceIterator):
    """Choices read when first iterated, and then kept: rendering a select
    iterates its choices twice (its options, and whether it may be required)."""

    def __iter__(self):
        if not hasattr(self, "_read"):
            self._read = list(super().__iter__())
        yield from self._read


class AnyYesNo(forms.NullBooleanSelect):
    """Django's yes/no select, whose empty choice reads "Any" (a filter left
    unset), not "Unknown"; it reads the same values (`true`, `false`)."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [("unknown", "Any"), ("true", "Yes"), ("false", "No")]


class CaseFilterSet(django_filters.FilterSet):
    # distinct=False: these filter the case's own columns, so no row can repeat,
    # and SELECT DISTINCT would make PostgreSQL sort every matching case before
    # the LIMIT of a page (README, Benchmarks).
    # Unset: every kind (the API's list as before opportunities existed
    # shows them too); the queue pages are each of one kind already.
    kind = django_filters.ChoiceFilter(
        choices=CaseKind.choices, help_text="`complaint` or `opportunity`; unset: both.", distinct=False
    )
    status = django_filters.MultipleChoiceFilter(choices=CaseStatus.choices, distinct=False)
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices, distinct=False)
    owner = django_filters.CharFilter(
        method="by_owner",
        help_text="`me`, `none`, or a user id.",
        validators=[_owner_value],
    )
    team = django_filters.CharFilter(field_name="team__slug")
    # Slugs on the API (an unknown one matches nothing); selects by name on
    # the pages, whose choices with_choices() reads.
    touchpoint = django_filters.CharFilter(
        field_name="touchpoint__slug", label="Touchpoint", help_text="The touchpoint's slug.", widget=forms.Select
    )
    journey = django_filters.CharFilter(
        field_name="journey__slug", label="Journey", help_text="The journey's slug.", widget=forms.Select
    )
    breached = django_filters.BooleanFilter(method="by_breached", label="Breached", widget=AnyYesNo)
    q = django_filters.CharFilter(
        method="by_search",
        label="Search",
        help_text="A case number (`CX-000056` or `56`), the customer's name, email, phone or external id, "
        "or words of the comment or the notes.",
        validators=[_search_text],
    )

    class Meta:
        model = Case
        fields = ["kind", "status", "priority", "owner", "team", "touchpoint", "journey", "breached", "q"]

    def with_choices(self) -> CaseFilterSet:
        """The journey and touchpoint selects' choices, by name, sending the
        slug the API takes: read once, when a select is first rendered (the
        queue page caches its rendered filter form, and then reads neither)."""
        for name, model, empty in (("touchpoint", Touchpoint, "Any touchpoint"), ("journey", Journey, "Any journey")):
            self.form.fields[name].widget.choices = _ReadOnce(partial(_named_choices, model, empty))
        return self

    def by_owner(self, queryset, name, value):
        if value == "me":
            return queryset.filter(owner=self.request.user)
        if value == "none":
            return queryset.filter(owner__isnull=True)
        return queryset.filter(owner_id=parse_id(value))

    def by_search(self, queryset, name, value):
        return search(queryset, value)

    def by_breached(self, queryset, name, value):
        if value is None:
            return queryset
        hit = breached(queryset)
        return hit if value else queryset.exclude(pk__in=hit.values("pk"))
