"""The action forms of the case page. They only validate input; the view
hands the cleaned data to cases.services, which decides."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import MaxLengthValidator
from django.utils import timezone

from cases import handling, policy
from cases.choices import ContactChannel, EventKind
from cases.models import RootCause
from cases.numbers import EXAMPLE, case_number, parse_case_number
from cases.services.transitions import NOTE_MAX_CHARS


def _note(required: bool, label: str = "Note") -> forms.CharField:
    # A validator, not max_length: max_length would give the textarea a
    # maxlength, and browsers cut a longer paste silently; this refuses it
    # with the reason.
    return forms.CharField(
        label=label,
        required=required,
        validators=[MaxLengthValidator(NOTE_MAX_CHARS)],
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _owner_field(param: policy.Param, case, user) -> forms.ModelChoiceField:
    """The people the user may give the case to (cases.policy.assignable_owners)."""
    members = (
        policy.assignable_owners(user, case)
        if case is not None and user is not None
        else get_user_model().objects.none()
    )
    return forms.ModelChoiceField(queryset=members, label=param.label, required=param.required)


def handling_minutes_field(label: str) -> forms.DecimalField:
    """The entered handling time; its bounds are the service's to check (cases.handling)."""
    attrs = {"min": str(handling.STEP), "max": str(handling.MAX_MINUTES), "step": str(handling.STEP)}
    return forms.DecimalField(
        label=label,
        required=False,
        widget=forms.NumberInput(attrs=attrs),
        help_text="Leave empty to have it measured from when this page was opened.",
    )


def opened_field(label: str, case) -> forms.CharField:
    """The signed time the page with the form was served, from which the
    server measures the handling time when none is entered."""
    initial = handling.opened_token(case.pk, timezone.now()) if case is not None else ""
    return forms.CharField(label=label, required=False, initial=initial, widget=forms.HiddenInput)


# The form field of each parameter an action of the state table may take.
_FIELDS = {
    "note": lambda param, case, user: _note(param.required, param.label),
    "channel": lambda param, case, user: forms.ChoiceField(
        choices=ContactChannel.choices, label=param.label, required=param.required
    ),
    "root_cause": lambda param, case, user: forms.ModelChoiceField(
        queryset=RootCause.objects.filter(active=True).select_related("parent"),
        label=param.label,
        required=param.required,
    ),
    "owner": _owner_field,
    "unreachable": lambda param, case, user: forms.BooleanField(label=param.label, required=param.required),
    "handling_minutes": lambda param, case, user: handling_minutes_field(param.label),
    "opened": lambda param, case, user: opened_field(param.label, case),
    # Checked by the service (parse_amount), which names the field.
    "amount": lambda param, case, user: forms.CharField(
        label=param.label,
        required=param.required,
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    ),
}


class ActionForm(forms.Form):
    """The form of one of people's actions on the case page: a field for
    each parameter the state table (cases.policy.TRANSITIONS) gives it, in
    its order, prefixed by the action's name."""

    def __init__(self, action: str, data=None, *, case=None, user=None):
        super().__init__(data, prefix=action)
        for param in policy.TRANSITIONS[action].params:
            self.fields[param.name] = _FIELDS[param.name](param, case, user)


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, help_text="Username, or `system`.")
    case = forms.CharField(required=False, help_text=f"Case number, e.g. {case_number(EXAMPLE)}.")
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *EventKind.choices])
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean_case(self) -> int | None:
        value = self.cleaned_data["case"]
        if not value.strip():
            return None
        case_id = parse_case_number(value)  # no number beyond what the table holds: SQLite would overflow
        if case_id is None:
            raise forms.ValidationError(f"Enter a case number like {case_number(EXAMPLE)}.")
        return case_id

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "Must not be before the start date.")
        return data


class BulkReassignForm(forms.Form):
    case = forms.TypedMultipleChoiceField(
        coerce=int, choices=[], error_messages={"required": "Select at least one case."}
    )
    owner = forms.ModelChoiceField(queryset=get_user_model().objects.none(), label="Reassign selected to")
    note = _note(False)

    def __init__(self, *args, user, case_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case"].choices = [(pk, pk) for pk in case_ids]
        # Only people `user` may give cases to; the service checks each case's team.
        self.fields["owner"].queryset = policy.bulk_assignable_owners(user)
