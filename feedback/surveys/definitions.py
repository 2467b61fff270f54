"""Survey definitions per touchpoint: which questions, in whose words, in
which language. The admin validates with these rules; the survey page and
the invitation email read the wording from here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import get_supported_language_variant, pgettext, pgettext_lazy
from django.utils.translation.trans_real import parse_accept_lang_header

from feedback.choices import SurveyLanguage, SurveyPurpose
from feedback.forms import NPS_CHOICES, SurveyForm
from feedback.models import Customer, SurveyDefinition, SurveyInvitation, SurveyWording
from feedback.scores import CES_RANGE, CSAT_RANGE, VES_RANGE, scores_in
from feedback.sentiment import COMMENT_MAX_CHARS

FALLBACK_LANGUAGE = SurveyLanguage.EN
# The questions a definition may ask, in the order the page asks them; each
# is a definition's `ask_<q>` and a wording's `<q>_question`.
QUESTIONS = ("nps", "csat", "ces", "ves", "comment")
QUESTION_NAMES = {"nps": "NPS", "csat": "CSAT", "ces": "CES", "ves": "VES", "comment": "comment"}
# What the lowest and the highest number of each scale mean (NPS: under its row).
SCALE_ENDS = {
    "csat": (pgettext_lazy("survey", "Very dissatisfied"), pgettext_lazy("survey", "Very satisfied")),
    "ces": (pgettext_lazy("survey", "Very difficult"), pgettext_lazy("survey", "Very easy")),
    "ves": (pgettext_lazy("survey", "Strongly disagree"), pgettext_lazy("survey", "Strongly agree")),
}


def survey_language(*, requested: str = "", customer: Customer | None = None) -> str:
    """The language to survey in: the one asked for, else the customer's
    stored language, else "" (not known: the survey page then follows the
    browser's Accept-Language, and the email is in English)."""
    for language in (requested, customer.language if customer is not None else ""):
        if language in SurveyLanguage.values:
            return language
    return ""


def accept_language(request) -> str:
    """The first survey language the browser's Accept-Language header names
    (a regional variant counts: de-AT is de), else English. The cookie and
    the URL are not consulted: they are the staff pages' choice."""
    for code, _quality in parse_accept_lang_header(request.META.get("HTTP_ACCEPT_LANGUAGE", "")):
        if code == "*":
            break
        try:
            language = get_supported_language_variant(code)
        except LookupError:
            continue
        if language in SurveyLanguage.values:
            return language
    return FALLBACK_LANGUAGE


def page_language(invitation: SurveyInvitation, request=None) -> str:
    """The language of an invitation's page (and of its fixed words): the
    invitation's stored language, else the browser's, else English."""
    if invitation.language in SurveyLanguage.values:
        return invitation.language
    return accept_language(request) if request is not None else FALLBACK_LANGUAGE


def active_definition(touchpoint) -> SurveyDefinition | None:
    return SurveyDefinition.objects.filter(touchpoint=touchpoint, active=True).prefetch_related("wordings").first()


def wording_for(definition: SurveyDefinition, language: str) -> SurveyWording | None:
    """The definition's words in `language`, else in English (the admin
    requires English), else None."""
    rows = {w.language: w for w in definition.wordings.all()}
    return rows.get(language) or rows.get(FALLBACK_LANGUAGE)


def asked(definition: SurveyDefinition) -> list[str]:
    return [q for q in QUESTIONS if getattr(definition, f"ask_{q}")]


# --- validation, for the admin ------------------------------------------------------


def definition_problem(definition: SurveyDefinition) -> str | None:
    if not asked(definition):
        return "Ask at least one question (NPS, CSAT, CES, VES or a comment)."
    return None


def wording_problems(definition: SurveyDefinition, language: str, values: Mapping[str, str]) -> dict[str, str]:
    """Field -> message for each question the definition asks that has no
    words in this row."""
    label = SurveyLanguage(language).label if language in SurveyLanguage.values else language
    return {
        f"{q}_question": f"The survey asks the {QUESTION_NAMES[q]} question: give its wording in {label}."
        for q in asked(definition)
        if not (values.get(f"{q}_question") or "").strip()
    }


def languages_problem(languages: Iterable[str]) -> str | None:
    if FALLBACK_LANGUAGE not in set(languages):
        return "Give the English wording: it is used for every language without its own."
    return None


# --- the survey page ----------------------------------------------------------------


class DefinedSurveyForm(forms.Form):
    """A touchpoint's defined survey in one wording: the questions the
    definition asks, each with the wording's text. Every question is
    optional, but an answer needs at least one of them."""

    def __init__(self, *args, definition: SurveyDefinition, wording: SurveyWording, **kwargs):
        super().__init__(*args, **kwargs)
        scales = {
            "nps": NPS_CHOICES,
            "csat": _numbers(CSAT_RANGE, SCALE_ENDS["csat"]),
            "ces": _numbers(CES_RANGE, SCALE_ENDS["ces"]),
            "ves": _numbers(VES_RANGE, SCALE_ENDS["ves"]),
        }
        for q in asked(definition):
            label = getattr(wording, f"{q}_question")
            if q == "comment":
                self.fields[q] = forms.CharField(
                    label=label, required=False, max_length=COMMENT_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 4})
                )
            else:
                self.fields[q] = forms.TypedChoiceField(
                    label=label,
                    choices=scales[q],
                    coerce=int,
                    widget=forms.RadioSelect,
                    required=False,
                    empty_value=None,
                )

    def clean(self):
        data = super().clean()
        if all(data.get(q) in (None, "") for q in self.fields):
            raise forms.ValidationError(pgettext("survey", "Please answer at least one question."))
        return data


def _numbers(bounds: tuple[int, int], ends: tuple[str, str]) -> list[tuple[int, str]]:
    """The scale's numbers, the lowest and the highest saying what they mean
    (the rows stack on a phone: the words go with their number)."""
    labels = {bounds[0]: ends[0], bounds[1]: ends[1]}
    return [(n, format_lazy("{} – {}", n, labels[n]) if n in labels else str(n)) for n in scores_in(bounds)]


def survey_form(
    invitation: SurveyInvitation, data=None, *, language: str = ""
) -> tuple[forms.Form, SurveyWording | None]:
    """The form an invitation's link opens, and the wording it is in: the
    touchpoint's active definition for an ordinary survey, in `language`
    (default: the invitation's; else English); otherwise the standard survey."""
    definition = active_definition(invitation.touchpoint) if invitation.purpose == SurveyPurpose.SURVEY else None
    language = language or invitation.language or FALLBACK_LANGUAGE
    wording = wording_for(definition, language) if definition else None
    if wording is None:
        return SurveyForm(data, touchpoint=invitation.touchpoint), None
    return DefinedSurveyForm(data, definition=definition, wording=wording), wording
