from django import forms

from feedback.sentiment import COMMENT_MAX_CHARS

NPS_CHOICES = [(n, str(n)) for n in range(11)]
CSAT_CHOICES = [(5, "Very satisfied"), (4, "Satisfied"), (3, "Neither"), (2, "Dissatisfied"), (1, "Very dissatisfied")]


class SurveyForm(forms.Form):
    """The public survey: at most three questions."""

    nps = forms.TypedChoiceField(
        label="How likely are you to recommend us to a friend or colleague?", choices=NPS_CHOICES, coerce=int,
        widget=forms.RadioSelect, error_messages={"required": "Please choose a number from 0 to 10."})
    csat = forms.TypedChoiceField(label="How satisfied are you with how we handled your issue?",
                                  choices=CSAT_CHOICES, coerce=int, widget=forms.RadioSelect, required=False,
                                  empty_value=None)
    comment = forms.CharField(label="Anything you would like to add? (optional)", required=False,
                              max_length=COMMENT_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 4}))
