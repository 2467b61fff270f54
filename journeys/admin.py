from __future__ import annotations

import nested_admin
from django import forms
from django.contrib import admin, messages
from django.utils.translation import ngettext

from cvx_site.errors import DomainError
from journeys import services
from journeys.choices import StageSide, ValueDimension
from journeys.models import Journey, Stage, Team, Touchpoint


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
    form = JourneyForm
    list_display = ["name", "state", "active", "position", "based_on"]
    list_filter = ["state", "active"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["based_on"]
    inlines = [StageInline]
    actions = ["copy_as_future_state"]

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
