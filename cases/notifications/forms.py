from django import forms

from cases.choices import NotificationKind


class NotificationPreferencesForm(forms.Form):
    email = forms.MultipleChoiceField(
        choices=NotificationKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Email me when",
        help_text="Every kind is shown in the app (the bell); ticked kinds are also emailed.",
    )
    # Only for team leads and CX admins, who are the digest's readers (the view removes it for others).
    weekly_digest = forms.BooleanField(
        required=False,
        label="Email me the weekly digest",
        help_text="Mondays: your teams' pillars, SLA breaches, cases not recovered and top negative topics.",
    )
