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
