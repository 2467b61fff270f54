"""The public survey page: no login, one signed link per invitation."""

from __future__ import annotations

from math import ceil

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import never_cache
from rest_framework.throttling import SimpleRateThrottle

from cvx_site.clientip import client_ip
from feedback.surveys import BadLink, SurveyAnswerNotRecorded, invitation_from_token, survey_answer
from feedback.surveys.definitions import accept_language, page_language, survey_form

_BAD_LINK_STATUS = {"forged": 404, "used": 410, "expired": 410}


class SurveyRateThrottle(SimpleRateThrottle):
    """Requests to the survey page per client address, counted in the cache
    (shared across web nodes when Redis is configured), GET and POST alike,
    before the link is even checked, so links cannot be guessed at speed."""

    scope = "survey"

    def get_rate(self) -> str:
        return settings.CVX_RATE_SURVEY

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def get_ident(self, request) -> str:
        return client_ip(request)


@never_cache
def survey(request, token: str):
    throttle = SurveyRateThrottle()
    if not throttle.allow_request(request, None):
        return _too_many(request, throttle.wait())
    try:
        invitation = invitation_from_token(token)
    except BadLink as exc:
        return _bad_link(request, exc)
    # The invitation's language, not the browser's cookie; the fixed words
    # follow the definition's wording, so a page never mixes two languages.
    language = page_language(invitation, request)
    with translation.override(language):
        return _survey_page(request, token, invitation, language)


def _survey_page(request, token: str, invitation, language: str):
    # The touchpoint's defined survey in the page's language, or the standard one.
    form, wording = survey_form(invitation, request.POST or None, language=language)
    if wording is not None and wording.language != language:
        translation.activate(wording.language)
    page = {"invitation": invitation, "wording": wording, "survey_language": translation.get_language()}
    status = 400 if form.is_bound else 200
    if request.method == "POST" and form.is_valid():
        try:
            outcome = survey_answer(token=token, **form.cleaned_data)
        except BadLink as exc:
            return _bad_link(request, exc)
        except SurveyAnswerNotRecorded as exc:
            form.add_error(None, exc.message)
            status = exc.status
        else:
            if outcome.response is not None:
                return render(request, "feedback/survey_thanks.html", page)
            for field, errors in outcome.errors.items():
                form.add_error(field if field in form.fields else None, errors)
    template = "feedback/survey_defined.html" if wording is not None else "feedback/survey.html"
    return render(request, template, {**page, "form": form}, status=status)


def _bad_link(request, exc: BadLink):
    # No invitation to ask: the browser's language.
    with translation.override(accept_language(request)):
        return _closed_page(request, exc)


def _closed_page(request, exc: BadLink):
    return render(
        request,
        "feedback/survey_closed.html",
        {"reason": exc.reason, "message": exc.message, "survey_language": translation.get_language()},
        status=_BAD_LINK_STATUS[exc.reason],
    )


def _too_many(request, wait: float | None) -> HttpResponse:
    with translation.override(accept_language(request)):
        response = render(
            request, "feedback/survey_wait.html", {"survey_language": translation.get_language()}, status=429
        )
    response["Retry-After"] = str(max(1, ceil(wait or 1)))
    return response
