"""The admin's page for people (Django's user admin, registered again here):
a person's teams and role are set on the same form as the account
(journeys.services.person_set_teams_and_role), and deactivating someone
who owns open cases first asks who takes them (cases.services.people).

Only superusers see and grant the raw permission fields and superuser
accounts; everyone else with the user permissions sees the account, the
teams and one of the roles, so this page never lets a CX admin raise
themselves above a role."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from cases.choices import OPEN_STATUSES
from cases.policy import bulk_assignable_owners
from cases.selectors import cases_visible_to
from cases.services.people import open_cases_owned_by, person_deactivate
from cvx_site.errors import DomainError
from journeys.models import Team
from journeys.services import PERSON_ROLES, person_set_teams_and_role

User = get_user_model()

TEAM_AND_ROLE = (
    "Team and role",
    {
        "fields": ("teams", "role"),
        "description": "The teams whose cases this person works, and what they may do. "
        "Team leads and CX admins may use this admin; frontline staff work in the app.",
    },
)


def _teams_field() -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        queryset=Team.objects.order_by("name"), required=False, widget=forms.CheckboxSelectMultiple
    )


def _role_field() -> forms.ChoiceField:
    return forms.ChoiceField(choices=[("", "No role")] + [(r, r) for r in PERSON_ROLES], required=False)


class PersonAddForm(AdminUserCreationForm):
    teams = _teams_field()
    role = _role_field()


class PersonChangeForm(UserChangeForm):
    teams = _teams_field()
    role = _role_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        person = self.instance
        self.fields["teams"].initial = list(person.teams.values_list("pk", flat=True))
        roles = [name for name in person.groups.values_list("name", flat=True) if name in PERSON_ROLES]
        self.fields["role"].initial = roles[0] if roles else ""

    def clean_is_active(self) -> bool:
        active = self.cleaned_data["is_active"]
        if self.instance.is_active and not active and open_cases_owned_by(self.instance).exists():
            raise forms.ValidationError(
                "This person owns open cases: use “Deactivate, giving their open cases to others” "
                "from the list of people, which asks who takes them."
            )
        return active


class PeopleAdmin(UserAdmin):
    form = PersonChangeForm
    add_form = PersonAddForm
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "is_active")
    actions = ["deactivate_person"]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return (*self.add_fieldsets, TEAM_AND_ROLE)
        if request.user.is_superuser:
            return (*self.fieldsets, TEAM_AND_ROLE)
        return (
            (None, {"fields": ("username", "password")}),
            (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
            TEAM_AND_ROLE,
            (_("Status"), {"fields": ("is_active", "last_login", "date_joined")}),
        )

    def get_readonly_fields(self, request, obj=None):
        return () if request.user.is_superuser else ("last_login", "date_joined")

    def get_queryset(self, request):
        people = super().get_queryset(request)
        return people if request.user.is_superuser else people.filter(is_superuser=False)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        person_set_teams_and_role(
            person=form.instance, teams=form.cleaned_data["teams"], role=form.cleaned_data["role"] or None
        )

    def get_urls(self):
        return [
            path(
                "<id>/deactivate/",
                self.admin_site.admin_view(self.deactivate_view),
                name="auth_user_deactivate",
            ),
            *super().get_urls(),
        ]

    @admin.action(description="Deactivate, giving their open cases to others", permissions=["change"])
    def deactivate_person(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose one person to deactivate at a time.", messages.WARNING)
            return None
        return HttpResponseRedirect(reverse("admin:auth_user_deactivate", args=[queryset.get().pk]))

    def deactivate_view(self, request, id):
        person = get_object_or_404(self.get_queryset(request), pk=id)
        if not self.has_change_permission(request, person):
            raise PermissionDenied
        cases = list(
            cases_visible_to(request.user)
            .filter(owner=person, status__in=OPEN_STATUSES)
            .select_related("team", "customer")
            .order_by("team__name", "pk")
        )
        hidden = open_cases_owned_by(person).count() - len(cases)
        teams = {case.team_id: case.team for case in cases}
        form = DeactivateForm(request.POST or None, actor=request.user, person=person, teams=teams.values())
        if request.method == "POST" and form.is_valid():
            try:
                moved = person_deactivate(
                    actor=request.user,
                    person=person,
                    owners_by_team=form.owners_by_team(),
                    note=form.cleaned_data["note"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                self.log_change(request, person, f"Deactivated; {len(moved)} open case(s) reassigned.")
                self.message_user(
                    request,
                    f"{person.get_username()} is deactivated; {len(moved)} open case(s) were given to others.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:auth_user_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Deactivate {person.get_username()}",
            "opts": self.opts,
            "person": person,
            "form": form,
            "teams": [
                (team, [c for c in cases if c.team_id == team.pk], form[f"team_{team.pk}"]) for team in teams.values()
            ],
            "hidden": hidden,
        }
        return TemplateResponse(request, "admin/auth/user/deactivate.html", context)


class DeactivateForm(forms.Form):
    """One owner choice per team the person has open cases in: the active
    members of that team the actor may give cases to, but the person."""

    note = forms.CharField(required=False, max_length=500, help_text="Recorded on each case's reassignment.")

    def __init__(self, *args, actor, person, teams, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = bulk_assignable_owners(actor).exclude(pk=person.pk)
        self.team_ids = []
        for team in teams:
            self.team_ids.append(team.pk)
            self.fields[f"team_{team.pk}"] = forms.ModelChoiceField(
                queryset=allowed.filter(teams=team),
                label=f"Who takes the cases of {team}",
                error_messages={"required": f"Choose who takes the cases of {team}."},
            )

    def owners_by_team(self) -> dict[int, object]:
        return {team_id: self.cleaned_data[f"team_{team_id}"] for team_id in self.team_ids}


admin.site.unregister(User)
admin.site.register(User, PeopleAdmin)
