from django import forms
from django.utils.text import format_lazy
from django.utils.translation import pgettext_lazy

from feedback.scores import CSAT_RANGE, NPS_RANGE, VES_RANGE, scores_in
from feedback.sentiment import COMMENT_MAX_CHARS

NPS_CHOICES = [(n, str(n)) for n in scores_in(NPS_RANGE)]
# Best first, one word per score of the scale.
CSAT_CHOICES = list(
    zip(
        reversed(scores_in(CSAT_RANGE)),
        [
            pgettext_lazy("survey", "Very satisfied"),
            pgettext_lazy("survey", "Satisfied"),
            pgettext_lazy("survey", "Neither"),
            pgettext_lazy("survey", "Dissatisfied"),
            pgettext_lazy("survey", "Very dissatisfied"),
        ],
        strict=True,
    )
)
# Agreement with the touchpoint's VES statement, most agreed first.
VES_CHOICES = list(
    zip(
        reversed(scores_in(VES_RANGE)),
        [
            pgettext_lazy("survey", "Strongly agree"),
            pgettext_lazy("survey", "Agree"),
            pgettext_lazy("survey", "Neither agree nor disagree"),
            pgettext_lazy("survey", "Disagree"),
            pgettext_lazy("survey", "Strongly disagree"),
        ],
        strict=True,
    )
)


class SurveyForm(forms.Form):
    """The public survey: at most three questions, four when `touchpoint`
    asks the VES (Touchpoint.asks_ves), in its own words (ves_question)."""

    nps = forms.TypedChoiceField(
        label=pgettext_lazy("survey", "How likely are you to recommend us to a friend or colleague?"),
        choices=NPS_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": format_lazy(
                pgettext_lazy("survey", "Please choose a number from {low} to {high}."),
                low=NPS_RANGE[0],
                high=NPS_RANGE[1],
            )
        },
    )
    csat = forms.TypedChoiceField(
        label=pgettext_lazy("survey", "How satisfied are you with how we handled your issue?"),
        choices=CSAT_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        required=False,
        empty_value=None,
    )
    comment = forms.CharField(
        label=pgettext_lazy("survey", "Anything you would like to add? (optional)"),
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
