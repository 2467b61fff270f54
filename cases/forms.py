"""The action forms of the case page. They only validate input; the view
hands the cleaned data to cases.services, which decides."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from cases.choices import ContactChannel, EventKind
from cases.models import RootCause
from cases.numbers import EXAMPLE, case_number, parse_case_number
from cases.services.transitions import NOTE_MAX_CHARS


def _note(required: bool, label: str = "Note") -> forms.CharField:
    return forms.CharField(label=label, required=required, max_length=NOTE_MAX_CHARS,
                           widget=forms.Textarea(attrs={"rows": 3}))


class NoteForm(forms.Form):
    note = _note(True)


class OptionalNoteForm(forms.Form):
    note = _note(False)


class ReasonForm(forms.Form):
    note = _note(True, "Reason")


class ContactForm(forms.Form):
    channel = forms.ChoiceField(choices=ContactChannel.choices)
    note = _note(True, "What was agreed")


class ResolveForm(forms.Form):
    root_cause = forms.ModelChoiceField(queryset=RootCause.objects.filter(active=True).select_related("parent"))
    note = _note(True, "Resolution summary")


class ReassignForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=get_user_model().objects.none(), label="New owner")
    note = _note(False)

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        if case is not None:
            self.fields["owner"].queryset = case.team.members.filter(is_active=True).order_by("username")


ACTION_FORMS = {
    "acknowledge": OptionalNoteForm,
    "log_contact": ContactForm,
    "note": NoteForm,
    "reassign": ReassignForm,
    "escalate": OptionalNoteForm,
    "resolve": ResolveForm,
    "reopen": ReasonForm,
    "cancel": ReasonForm,
}


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
    case = forms.TypedMultipleChoiceField(coerce=int, choices=[], error_messages={
        "required": "Select at least one case."})
    owner = forms.ModelChoiceField(queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
                                   label="Reassign selected to")
    note = _note(False)

    def __init__(self, *args, case_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case"].choices = [(pk, pk) for pk in case_ids]
