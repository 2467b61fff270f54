"""The German survey page in a real browser, on a phone (390x844) and on a
desktop: the translated fixed words and the definition's German wording are
shown, nothing scrolls sideways, and every answer button fits. Screenshots go
to artifacts/screenshots/survey-de-*.png."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedback.choices import SurveyPurpose
from feedback.models import Customer, CustomerIdentity, SurveyDefinition, SurveyWording
from feedback.surveys import invitation_create, invitation_token
from tests.feedback.test_languages import compile_messages

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("pg_audit_cleanup"),
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
SIZES = {"phone": (390, 844), "desktop": (1280, 900)}


def test_the_german_survey_on_a_phone_and_a_desktop(page, live_server, touchpoint):
    compile_messages()
    definition = SurveyDefinition.objects.create(touchpoint=touchpoint, ask_nps=True, ask_csat=True, ask_comment=True)
    for language, title, nps, csat, comment in (
        ("en", "How was your call?", "Would you recommend us?", "How satisfied are you?", "Anything else?"),
        (
            "de",
            "Wie war Ihr Anruf bei der Störungsstelle?",
            "Wie wahrscheinlich ist es, dass Sie uns weiterempfehlen?",
            "Wie zufrieden sind Sie mit der Lösung?",
            "Möchten Sie uns noch etwas mitteilen?",
        ),
    ):
        SurveyWording.objects.create(
            definition=definition,
            language=language,
            title=title,
            intro="",
            nps_question=nps,
            csat_question=csat,
            comment_question=comment,
        )
    customer = Customer.objects.create(name="Jürgen", language="de")
    CustomerIdentity.objects.create(customer=customer, kind="email", value="juergen@example.com")
    invitation = invitation_create(customer=customer, touchpoint=touchpoint, purpose=SurveyPurpose.SURVEY)
    url = f"{live_server.url}/s/{invitation_token(invitation)}/"

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.goto(url)
        assert page.locator("html").get_attribute("lang") == "de"
        assert page.locator("h1").inner_text() == "Wie war Ihr Anruf bei der Störungsstelle?"
        assert page.get_by_role("button", name="Senden").is_visible()
        assert page.get_by_text("Wie wahrscheinlich ist es, dass Sie uns weiterempfehlen?").is_visible()
        assert page.get_by_text("Überhaupt nicht wahrscheinlich").is_visible()
        assert (
            page.get_by_text("1 – Sehr unzufrieden").is_visible()
            and page.get_by_text("5 – Sehr zufrieden").is_visible()
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"sideways scroll at {width} px"
        for choice in page.locator("label.nps-choice").all():
            assert choice.evaluate("e => e.getBoundingClientRect().right") <= width
        page.screenshot(path=str(SCREENSHOTS / f"survey-de-{name}.png"), full_page=True)

    # An answer without a score: the German error, on the page.
    page.get_by_role("button", name="Senden").click()
    assert page.get_by_text("Bitte beantworten Sie mindestens eine Frage.").is_visible()
