"""The demo's survey definitions (`seed_demo`): the fault call center asks
NPS, CES and a comment, in English and German, so a survey request can be
tried at once (README, "Sending surveys"). Safe to run again: a definition
that exists is left as an admin may have changed it."""

from __future__ import annotations

from feedback.models import SurveyDefinition, SurveyWording

# touchpoint slug -> (questions asked, {language: wording})
DEMO_SURVEYS = {
    "ff-call-center": (
        {"ask_nps": True, "ask_ces": True, "ask_comment": True},
        {
            "en": {
                "title": "How was your call?",
                "intro": "You called our fault line. Three quick questions.",
                "nps_question": "How likely are you to recommend us to a friend or colleague?",
                "ces_question": "How easy was it to get your fault sorted out?",
                "comment_question": "Anything you would like to add? (optional)",
                "thank_you": "Thank you! The fault-line team reads every answer.",
            },
            "de": {
                "title": "Wie war Ihr Anruf?",
                "intro": "Sie haben unsere Störungsstelle angerufen. Drei kurze Fragen.",
                "nps_question": "Wie wahrscheinlich ist es, dass Sie uns Freunden oder Kollegen empfehlen?",
                "ces_question": "Wie einfach war es, Ihre Störung beheben zu lassen?",
                "comment_question": "Möchten Sie noch etwas ergänzen? (optional)",
                "thank_you": "Vielen Dank! Das Team der Störungsstelle liest jede Antwort.",
            },
        },
    ),
}


def seed_survey_definitions(touchpoints: dict) -> int:
    """Define the demo surveys at those of `touchpoints` (slug -> Touchpoint)
    that have none yet; returns how many were made."""
    made = 0
    for slug, (asks, wordings) in DEMO_SURVEYS.items():
        touchpoint = touchpoints.get(slug)
        if touchpoint is None or SurveyDefinition.objects.filter(touchpoint=touchpoint).exists():
            continue
        definition = SurveyDefinition.objects.create(touchpoint=touchpoint, **asks)
        SurveyWording.objects.bulk_create(
            SurveyWording(definition=definition, language=language, **words) for language, words in wordings.items()
        )
        made += 1
    return made
