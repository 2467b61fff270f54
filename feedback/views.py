"""The public survey page: no login, one signed link per invitation."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.cache import never_cache

from feedback.forms import SurveyForm
from feedback.surveys import BadLink, invitation_from_token, survey_answer

_BAD_LINK_STATUS = {"forged": 404, "used": 410, "expired": 410}


@never_cache
def survey(request, token: str):
    try:
        invitation = invitation_from_token(token)
    except BadLink as exc:
        return _bad_link(request, exc)
    form = SurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = survey_answer(token=token, **form.cleaned_data)
        except BadLink as exc:
            return _bad_link(request, exc)
        if outcome.response is not None:
            return render(request, "feedback/survey_thanks.html", {"invitation": invitation})
        for field, errors in outcome.errors.items():
            form.add_error(field if field in form.fields else None, errors)
    status = 400 if form.is_bound else 200
    return render(request, "feedback/survey.html", {"form": form, "invitation": invitation}, status=status)


def _bad_link(request, exc: BadLink):
    return render(request, "feedback/survey_closed.html", {"reason": exc.reason, "message": exc.message},
                  status=_BAD_LINK_STATUS[exc.reason])
