from __future__ import annotations

import nested_admin
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import ngettext

from cvx_site.errors import DomainError
from journeys import services
from journeys.choices import JourneyState, StageSide, ValueDimension
from journeys.models import Journey, Stage, Team, Touchpoint
from journeys.selectors import journey_diff, touchpoint_figures_for


class UniqueSlugForm(forms.ModelForm):
    """Slugs are prefilled from the name and may be edited; one already in
    use is refused on the field, saying which row has it."""

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        model = self._meta.model
        other = model.objects.filter(slug=slug).exclude(pk=self.instance.pk).first()
        if other is not None:
            name = model._meta.verbose_name
            raise forms.ValidationError(
                f"{name.capitalize()} with this Slug already exists: “{other}” uses “{slug}”. "
                f"Choose a slug no other {name} uses.",
                code="unique",
            )
        return slug


class JourneyForm(UniqueSlugForm):
    class Meta:
        model = Journey
        fields = "__all__"


class TeamForm(UniqueSlugForm):
    class Meta:
        model = Team
        fields = "__all__"


class TouchpointForm(UniqueSlugForm):
    value_dimensions = forms.MultipleChoiceField(
        choices=ValueDimension.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    # A touchpoint is front stage unless said otherwise, also when the page
    # was loaded before this field existed.
    # Short labels keep the line narrow on a tablet; the help text explains them.
    side = forms.ChoiceField(
        choices=[(StageSide.FRONT, "Front stage"), (StageSide.BACK, "Back stage")],
        required=False,
        initial=StageSide.FRONT,
        label="Front or back stage",
        help_text=Touchpoint._meta.get_field("side").help_text,
    )

    class Meta:
        model = Touchpoint
        fields = "__all__"

    def clean_side(self) -> str:
        return self.cleaned_data["side"] or StageSide.FRONT

    def clean_value_dimensions(self) -> list[str]:
        return sorted(self.cleaned_data["value_dimensions"])


class StageFormSet(nested_admin.formsets.NestedInlineFormSet):
    """Touchpoint slugs are unique site-wide, so check them across all stages
    of the page too: two new touchpoints on different stages with one slug
    would otherwise pass each stage's own checks and fail in the database."""

    def clean(self) -> None:
        super().clean()
        seen: dict[str, object] = {}
        for form in self.forms:
            for nested in getattr(form, "nested_formsets", []):
                for tp_form in nested.forms:
                    slug = getattr(tp_form, "cleaned_data", {}).get("slug")
                    if not slug or tp_form.cleaned_data.get("DELETE"):
                        continue
                    if slug in seen:
                        tp_form.add_error("slug", f"The slug “{slug}” is used by another touchpoint on this page.")
                    seen[slug] = tp_form


# The journey page holds every stage and touchpoint at once, so each
# touchpoint shows one compact line and its slug (what a CX admin changes most) and keeps
# the rest in a collapsed "Details" section: readable at 1366 px and on a tablet.
TOUCHPOINT_LINE = ("name", "channel", "side", "team")
TOUCHPOINT_DETAILS = (
    "default_owner",
    "value_dimensions",
    ("listening_post", "asks_ves"),
    "ves_question",
    ("first_contact_sla_hours", "resolution_sla_hours"),
)


class TouchpointInline(nested_admin.NestedStackedInline):
    model = Touchpoint
    form = TouchpointForm
    extra = 0
    sortable_field_name = "position"
    fieldsets = [
        # The slug keeps a line of its own: nested_admin prefills every input
        # of the line that holds a prepopulated field, the name included.
        (None, {"fields": ["position", TOUCHPOINT_LINE, "slug"]}),
        ("Details", {"fields": list(TOUCHPOINT_DETAILS), "classes": ["collapse"]}),
    ]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["team", "default_owner"]
    classes = ["touchpoint-rows"]


class StageInline(nested_admin.NestedStackedInline):
    model = Stage
    formset = StageFormSet
    extra = 0
    sortable_field_name = "position"
    fieldsets = [
        (None, {"fields": ["position", "name"]}),
        ("Pain points and moments of truth", {"fields": ["pain_points", "moments_of_truth"], "classes": ["collapse"]}),
    ]
    inlines = [TouchpointInline]


@admin.register(Journey)
class JourneyAdmin(nested_admin.NestedModelAdmin):
    """Journeys with their stages and touchpoints on one page. A future-state
    draft has a side-by-side page (its map beside the current one's, from
    journeys.selectors.journey_diff) from which it is promoted to current
    (journeys.services.journey_promote)."""

    form = JourneyForm
    list_display = ["name", "state", "active", "position", "based_on", "compare_link"]
    list_filter = ["state", "active"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["based_on"]
    inlines = [StageInline]
    actions = ["copy_as_future_state"]

    @admin.display(description="side by side")
    def compare_link(self, journey: Journey) -> str:
        if journey.state != JourneyState.FUTURE or journey.based_on_id is None:
            return ""
        return format_html(
            '<a href="{}">Compare with current</a>', reverse("admin:journeys_journey_compare", args=[journey.pk])
        )

    def get_urls(self):
        compare = path(
            "<int:journey_id>/compare/",
            self.admin_site.admin_view(self.compare_view),
            name="journeys_journey_compare",
        )
        promote = path(
            "<int:journey_id>/promote/",
            self.admin_site.admin_view(self.promote_view),
            name="journeys_journey_promote",
        )
        return [compare, promote, *super().get_urls()]

    def compare_view(self, request, journey_id: int):
        """The draft beside the journey it was copied from, stage by stage,
        with what feedback says of the touchpoints the design changes."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        draft = get_object_or_404(Journey.objects.select_related("based_on"), pk=journey_id)
        change_page = reverse("admin:journeys_journey_change", args=[draft.pk])
        if draft.state != JourneyState.FUTURE or draft.based_on is None:
            why = (
                "it is not a future-state draft"
                if draft.state != JourneyState.FUTURE
                else "it was copied from a journey that is gone"
            )
            self.message_user(request, f"“{draft}” has no current state to compare with: {why}.", messages.WARNING)
            return HttpResponseRedirect(change_page)
        diff = journey_diff(draft)
        changed = [pair for pair in diff.changed if pair.current is not None]
        figures = touchpoint_figures_for(request.user, [pair.current for pair in changed])
        for pair in changed:
            pair.figures = figures[pair.current.pk]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": draft,
            "title": f"“{draft.based_on}” beside “{draft}”",
            "diff": diff,
            "promotable": draft.based_on.state == JourneyState.CURRENT,
        }
        return TemplateResponse(request, "admin/journeys/journey/compare.html", context)

    def promote_view(self, request, journey_id: int):
        """POST: promote the draft through the service; whatever it refuses is the message shown."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        try:
            promoted = services.journey_promote(actor=request.user, draft_id=journey_id)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:journeys_journey_changelist"))
        self.message_user(
            request,
            f"“{promoted.name}” is now the current state; the journey it replaced is archived with its history.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:journeys_journey_change", args=[promoted.pk]))

    @admin.action(description="Copy as a new future-state draft", permissions=["add"])
    def copy_as_future_state(self, request, queryset):
        copied = 0
        for journey in queryset:
            try:
                services.journey_copy_as_future(journey=journey)
                copied += 1
            except DomainError as exc:
                self.message_user(request, exc.message, messages.WARNING)
        if copied:
            self.message_user(
                request,
                ngettext(
                    "Copied %d journey as a future-state draft.", "Copied %d journeys as future-state drafts.", copied
                )
                % copied,
                messages.SUCCESS,
            )


@admin.register(Touchpoint)
class TouchpointAdmin(admin.ModelAdmin):
    form = TouchpointForm
    list_display = ["name", "slug", "channel", "side", "stage", "team", "default_owner", "listening_post", "asks_ves"]
    list_filter = ["channel", "side", "team", "stage__journey__state", "stage__journey", "listening_post", "asks_ves"]
    search_fields = ["name", "slug", "stage__name", "stage__journey__name"]
    list_select_related = ["stage__journey", "team", "default_owner"]
    autocomplete_fields = ["team", "default_owner", "stage"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ["name", "journey", "position"]
    list_filter = ["journey__state", "journey"]
    search_fields = ["name", "journey__name"]
    list_select_related = ["journey"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    form = TeamForm
    list_display = ["name", "lead", "active"]
    list_filter = ["active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members"]
    autocomplete_fields = ["lead"]
