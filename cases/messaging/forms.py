"""The composer on the case page."""

from __future__ import annotations

from django import forms

from cases.forms import handling_minutes_field, opened_field
from cases.messaging.models import BODY_MAX_CHARS, SUBJECT_MAX_CHARS
from cases.policy import param


class MessageForm(forms.Form):
    """Parses the composer; the rules (who may send, a customer email, the
    text checks, the placeholders) are the service's, shown as field errors."""

    template = forms.TypedChoiceField(label="Reply template", required=False, coerce=int, empty_value=None)
    subject = forms.CharField(label="Subject", required=False, max_length=SUBJECT_MAX_CHARS)
    body = forms.CharField(label="Message", required=False, widget=forms.Textarea(attrs={"rows": 8}))

    def __init__(self, *args, templates=(), case=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The contact's handling time, entered or measured from when the composer was opened.
        self.fields["handling_minutes"] = handling_minutes_field(param("log_contact", "handling_minutes").label)
        self.fields["opened"] = opened_field(param("log_contact", "opened").label, case)
        self.fields["template"].choices = [("", "— none —"), *((t.pk, t.name) for t in templates)]
        # Longer text is the service's error to give, with the count.
        self.fields["body"].widget.attrs["maxlength"] = BODY_MAX_CHARS
