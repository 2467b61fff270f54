"""Survey definitions in the admin: a CX admin defines the questions and
their wording per language; what is incomplete is refused with its reason."""

from __future__ import annotations

import pytest

from feedback.models import SurveyDefinition

pytestmark = pytest.mark.django_db
ADD = "/admin/feedback/surveydefinition/add/"


def _post(client, touchpoint, *wordings, **asks):
    data = {
        "touchpoint": touchpoint.pk,
        "active": "on",
        **{f"ask_{q}": "on" for q, on in asks.items() if on},
        "wordings-TOTAL_FORMS": str(len(wordings)),
        "wordings-INITIAL_FORMS": "0",
        "wordings-MIN_NUM_FORMS": "1",
        "wordings-MAX_NUM_FORMS": "1000",
    }
    for i, wording in enumerate(wordings):
        data.update({f"wordings-{i}-{key}": value for key, value in wording.items()})
    return client.post(ADD, data)


ENGLISH = {"language": "en", "title": "How was it?", "nps_question": "Recommend us?", "comment_question": "Anything?"}


def _errors(page) -> str:
    return page.content.decode()


def test_a_cx_admin_defines_a_survey_in_two_languages(client, cx_admin, touchpoint):
    client.force_login(cx_admin)
    german = {"language": "de", "title": "Wie war es?", "nps_question": "Empfehlen?", "comment_question": "Noch etwas?"}
    page = _post(client, touchpoint, ENGLISH, german, nps=True, comment=True)
    assert page.status_code == 302, _errors(page)
    definition = SurveyDefinition.objects.get(touchpoint=touchpoint)
    assert sorted(definition.wordings.values_list("language", flat=True)) == ["de", "en"]


def test_a_survey_must_ask_something(client, cx_admin, touchpoint):
    client.force_login(cx_admin)
    page = _post(client, touchpoint, ENGLISH)
    assert page.status_code == 200
    assert "Ask at least one question" in _errors(page)
    assert not SurveyDefinition.objects.exists()


def test_every_asked_question_needs_its_wording(client, cx_admin, touchpoint):
    client.force_login(cx_admin)
    german = {"language": "de", "title": "Wie war es?", "nps_question": "Empfehlen?"}
    page = _post(client, touchpoint, ENGLISH, german, nps=True, comment=True, ces=True)
    assert page.status_code == 200
    html = _errors(page)
    assert "The survey asks the CES question: give its wording in English." in html
    assert "The survey asks the comment question: give its wording in Deutsch." in html
    assert not SurveyDefinition.objects.exists()


def test_the_english_wording_is_required(client, cx_admin, touchpoint):
    client.force_login(cx_admin)
    german = {"language": "de", "title": "Wie war es?", "nps_question": "Empfehlen?"}
    page = _post(client, touchpoint, german, nps=True)
    assert page.status_code == 200
    assert "Give the English wording" in _errors(page)


def test_one_wording_per_language(client, cx_admin, touchpoint):
    client.force_login(cx_admin)
    page = _post(client, touchpoint, ENGLISH, ENGLISH, nps=True, comment=True)
    assert page.status_code == 200
    assert "Please correct the duplicate data for language" in _errors(page)


def test_frontline_staff_cannot_edit_survey_definitions(client, agent, lead):
    client.force_login(lead)
    assert client.get(ADD).status_code == 403
