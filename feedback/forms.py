from django import forms

from feedback.scores import CSAT_RANGE, NPS_RANGE, VES_RANGE, scores_in
from feedback.sentiment import COMMENT_MAX_CHARS

NPS_CHOICES = [(n, str(n)) for n in scores_in(NPS_RANGE)]
# Best first, one word per score of the scale.
CSAT_CHOICES = list(
    zip(
        reversed(scores_in(CSAT_RANGE)),
        ["Very satisfied", "Satisfied", "Neither", "Dissatisfied", "Very dissatisfied"],
        strict=True,
    )
)
# Agreement with the touchpoint's VES statement, most agreed first.
VES_CHOICES = list(
    zip(
        reversed(scores_in(VES_RANGE)),
        ["Strongly agree", "Agree", "Neither agree nor disagree", "Disagree", "Strongly disagree"],
        strict=True,
    )
)


class SurveyForm(forms.Form):
    """The public survey: at most three questions, four when `touchpoint`
    asks the VES (Touchpoint.asks_ves), in its own words (ves_question)."""

    nps = forms.TypedChoiceField(
        label="How likely are you to recommend us to a friend or colleague?",
        choices=NPS_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": f"Please choose a number from {NPS_RANGE[0]} to {NPS_RANGE[1]}."},
    )
    csat = forms.TypedChoiceField(
        label="How satisfied are you with how we handled your issue?",
        choices=CSAT_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        required=False,
        empty_value=None,
    )
    comment = forms.CharField(
        label="Anything you would like to add? (optional)",
        required=False,
        max_length=COMMENT_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, touchpoint=None, **kwargs):
        super().__init__(*args, **kwargs)
        if touchpoint is not None and touchpoint.asks_ves:
            self.fields["ves"] = forms.TypedChoiceField(
                label=touchpoint.ves_question,
                choices=VES_CHOICES,
                coerce=int,
                widget=forms.RadioSelect,
                required=False,
                empty_value=None,
            )
            # Before the comment, as the other scales are.
            self.order_fields(["nps", "csat", "ves", "comment"])
