"""Languages (issue 19): the survey page and its emails in the invitation's
language (else the browser's Accept-Language, else English), the fixed words
translated through Django's catalogues in locale/, and those catalogues
complete for every customer-facing string (context "survey" / "survey email")."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from feedback.choices import SurveyLanguage, SurveyPurpose
from feedback.models import Customer, CustomerIdentity, SurveyDefinition, SurveyWording
from feedback.surveys import invitation_create, invitation_send, invitation_token

IN_CI = os.environ.get("CI", "").lower() == "true"
LOCALE = Path(settings.BASE_DIR) / "locale"
CUSTOMER_CONTEXTS = ("survey", "survey email")
TRANSLATED = [code for code in SurveyLanguage.values if code != "en"]

# The definition's own words per language, and one fixed word of the page.
WORDINGS = {
    "de": ("Wie war Ihr Anruf?", "Wie wahrscheinlich empfehlen Sie uns weiter?", "Senden"),
    "fr": ("Comment était votre appel ?", "Nous recommanderiez-vous ?", "Envoyer"),
    "es": ("¿Qué tal su llamada?", "¿Nos recomendaría?", "Enviar"),
}


def compile_messages() -> None:
    """Compile locale/*/django.po beside them when a .mo is missing or older
    (`make install` and the test command do it first; this covers a bare
    pytest run). Without msgfmt the language tests skip, or fail under CI."""
    stale = [
        po
        for po in LOCALE.glob("*/LC_MESSAGES/django.po")
        if not po.with_suffix(".mo").exists() or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime
    ]
    if not stale:
        return
    if shutil.which("msgfmt") is None:
        reason = "msgfmt (Debian's gettext) is not installed: the translations cannot be compiled"
        if IN_CI:
            pytest.fail(f"{reason}; CI=true forbids skipping the language tests", pytrace=False)
        pytest.skip(reason)
    for po in stale:
        subprocess.run(["msgfmt", "--check-format", "-o", str(po.with_suffix(".mo")), str(po)], check=True)
    # Catalogues loaded before the compile (a test that activated German) are dropped.
    from django.utils.translation.reloader import translation_file_changed

    translation_file_changed(sender=None, file_path=LOCALE / "de" / "LC_MESSAGES" / "django.mo")


@pytest.fixture(scope="module", autouse=True)
def _compiled_messages():
    compile_messages()


def invite(touchpoint, *, language: str = "", purpose: str = SurveyPurpose.SURVEY, email="ada@example.com"):
    customer = Customer.objects.create(name="Ada")
    CustomerIdentity.objects.create(customer=customer, kind="email", value=email)
    return invitation_create(customer=customer, touchpoint=touchpoint, purpose=purpose, language=language)


def link(invitation) -> str:
    return f"/s/{invitation_token(invitation)}/"


@pytest.fixture
def definition(touchpoint):
    definition = SurveyDefinition.objects.create(touchpoint=touchpoint, ask_nps=True, ask_comment=True)
    SurveyWording.objects.create(
        definition=definition,
        language="en",
        title="How was your call?",
        nps_question="Would you recommend us?",
        comment_question="Anything else?",
    )
    for language, (title, nps, _send) in WORDINGS.items():
        SurveyWording.objects.create(
            definition=definition, language=language, title=title, nps_question=nps, comment_question="…"
        )
    return definition


# --- the page -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("language", sorted(WORDINGS))
def test_the_survey_page_is_in_the_invitations_language(client, definition, touchpoint, language):
    title, nps, send = WORDINGS[language]
    # The browser's cookie and Accept-Language say English: the invitation decides.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(link(invite(touchpoint, language=language)), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 200
    assert f'<html lang="{language}">' in html
    assert title in html and nps in html
    assert f'<button type="submit">{send}</button>' in html
    assert ">Send<" not in html


@pytest.mark.django_db
def test_the_browsers_accept_language_when_the_invitation_has_none(client, definition, touchpoint):
    invitation = invite(touchpoint)  # no language asked for, none stored for the customer
    assert invitation.language == ""
    html = client.get(link(invitation), HTTP_ACCEPT_LANGUAGE="fr-CH, fr;q=0.9, en;q=0.5").content.decode()
    assert '<html lang="fr">' in html and "Nous recommanderiez-vous ?" in html and ">Envoyer<" in html
    # A language CVX does not survey in is passed over; nothing usable: English.
    html = client.get(link(invitation), HTTP_ACCEPT_LANGUAGE="it, es;q=0.8").content.decode()
    assert '<html lang="es">' in html and ">Enviar<" in html
    html = client.get(link(invitation), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert '<html lang="en">' in html and "Would you recommend us?" in html and ">Send<" in html


@pytest.mark.django_db
def test_the_customers_stored_language_is_kept_on_the_invitation(client, definition, touchpoint):
    customer = Customer.objects.create(name="Jean", language="fr")
    CustomerIdentity.objects.create(customer=customer, kind="email", value="jean@example.com")
    invitation = invitation_create(customer=customer, touchpoint=touchpoint, purpose=SurveyPurpose.SURVEY)
    html = client.get(link(invitation), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert invitation.language == "fr" and '<html lang="fr">' in html and ">Envoyer<" in html


@pytest.mark.django_db
def test_the_standard_survey_its_scales_and_errors_in_german(client, touchpoint):
    """The follow-up's three questions, the scale labels and an error."""
    path = link(invite(touchpoint, language="de", purpose=SurveyPurpose.FOLLOW_UP))
    html = client.get(path).content.decode()
    assert '<html lang="de">' in html
    for words in (
        "Wie wahrscheinlich ist es, dass Sie uns einem Freund oder Kollegen empfehlen?",
        "Wie zufrieden sind Sie damit, wie wir Ihr Anliegen bearbeitet haben?",
        "Möchten Sie noch etwas hinzufügen? (optional)",
        "Überhaupt nicht wahrscheinlich",
        "Sehr zufrieden",
    ):
        assert words in html
    refused = client.post(path, {"comment": "nur ein Kommentar"})
    assert refused.status_code == 400 and "Bitte wählen Sie eine Zahl von 0 bis 10." in refused.content.decode()


@pytest.mark.django_db
def test_the_thank_you_default_and_the_closed_link_in_spanish(client, touchpoint):
    path = link(invite(touchpoint, language="es"))
    thanks = client.post(path, {"nps": "9"}).content.decode()
    assert "¡Gracias!" in thanks and "Su respuesta ha llegado al equipo." in thanks
    again = client.get(path, HTTP_ACCEPT_LANGUAGE="es")
    assert again.status_code == 410 and "Esta encuesta ya ha sido respondida." in again.content.decode()


# --- the emails -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_invitation_and_reminder_emails_in_german_whatever_the_workers_language(touchpoint, mailoutbox):
    invitation = invite(touchpoint, language="de", purpose=SurveyPurpose.FOLLOW_UP)
    with translation.override("fr"):  # a worker's language is no one's choice
        assert invitation_send(invitation_id=invitation.pk)
        assert invitation_send(invitation_id=invitation.pk, reminder=True)
    first, reminder = mailoutbox
    assert first.subject == "Wie war es? Zwei kurze Fragen"
    assert reminder.subject == "Erinnerung: Wie war es? Zwei kurze Fragen"
    assert first.body.startswith("Guten Tag,\n\n")
    assert "Ist es jetzt in Ordnung? Wir möchten Ihnen zwei Fragen stellen und" in first.body
    assert "- Wie zufrieden sind Sie damit, wie wir Ihr Anliegen bearbeitet haben?" in first.body
    assert "Es dauert weniger als eine Minute:" in first.body
    assert re.search(r"Der Link ist einmal gültig, bis zum \d+\. [A-ZÄÖÜ][a-zä]+ \d{4}\.", first.body)
    assert translation.get_language() != "de"


@pytest.mark.django_db
def test_a_defined_survey_email_speaks_the_wordings_language(definition, touchpoint, mailoutbox):
    invitation_send(invitation_id=invite(touchpoint, language="es").pk)
    (mail,) = mailoutbox
    assert mail.subject == "¿Qué tal su llamada?"
    assert "Nos gustaría hacerle una pregunta y, si lo desea," in mail.body and "- ¿Nos recomendaría?" in mail.body


# --- the catalogues -------------------------------------------------------------------


def po_entries(path: Path) -> list[dict]:
    """The entries of a .po file: msgctxt, msgid, msgstr (every plural form), flags."""
    entries, entry, key = [], {}, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if entry:
                entries.append(entry)
            entry, key = {}, None
        elif line.startswith("#,"):
            entry["flags"] = line[2:]
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[key] += _unquote(line)
        else:
            key, _space, value = line.partition(" ")
            key = "msgstr" if key.startswith("msgstr[") and "msgstr" not in entry else key
            entry[key] = _unquote(value)
    return entries


def _unquote(text: str) -> str:
    return text.strip()[1:-1].replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def customer_facing(path: Path) -> list[dict]:
    return [e for e in po_entries(path) if e.get("msgctxt") in CUSTOMER_CONTEXTS]


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_customer_facing_string_is_translated(language):
    entries = customer_facing(LOCALE / language / "LC_MESSAGES" / "django.po")
    assert len(entries) >= 40
    translations = [[v for k, v in e.items() if k.startswith("msgstr")] for e in entries]
    untranslated = [
        e["msgid"]
        for e, found in zip(entries, translations, strict=True)
        if "fuzzy" in e.get("flags", "") or not found or not all(found)
    ]
    assert untranslated == []
    # Placeholders survive translation.
    for e in entries:
        for k, v in e.items():
            if k.startswith("msgstr"):
                assert set(re.findall(r"\{\w+\}|%\(\w+\)s", v)) == set(re.findall(r"\{\w+\}|%\(\w+\)s", e["msgid"]))


# A translate tag or a pgettext call with one of the customer contexts.
_MARKED = (
    re.compile(r'\{% translate "([^"]+)" context "(survey(?: email)?)" %\}'),
    re.compile(r'pgettext(?:_lazy)?\(\s*"(survey(?: email)?)",\s*"([^"]+)"'),
)


def test_every_string_marked_for_customers_is_in_every_catalogue():
    """makemessages was run after the last customer-facing string was marked."""
    marked = set()
    roots = [Path(settings.BASE_DIR) / d for d in ("templates", "feedback", "cases")]
    for path in [p for root in roots for p in root.rglob("*") if p.suffix in (".html", ".py", ".txt")]:
        text = path.read_text(encoding="utf-8")
        marked |= {(m[1], m[0]) for m in _MARKED[0].findall(text)}
        marked |= {(m[0], m[1]) for m in _MARKED[1].findall(text)}
    assert ("survey", "Send") in marked and ("survey email", "Hello,") in marked
    for language in TRANSLATED:
        catalogue = {
            (e["msgctxt"], e["msgid"]) for e in customer_facing(LOCALE / language / "LC_MESSAGES" / "django.po")
        }
        assert sorted(marked - catalogue) == [], f"run makemessages -l {language} and translate"


def test_the_settings_offer_the_survey_languages():
    assert [code for code, _name in settings.LANGUAGES] == list(SurveyLanguage.values)


# --- the staff pages ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_staff_pages_are_marked_and_stay_in_english(client, agent):
    """The staff pages' words are in the catalogues to translate (English is
    their source, shipped complete); the page says which language it is in."""
    client.force_login(agent)
    html = client.get("/", follow=True).content.decode()
    assert '<html lang="en' in html and ">My queue<" in html and ">Log out<" in html
    # Shipped in English only: a German browser gets them in English, not
    # English mixed with what Django itself translates (dates, "Abmelden").
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9", follow=True).content.decode()
    assert '<html lang="en' in html and ">Log out<" in html and "Abmelden" not in html
    staff = {e["msgid"] for e in po_entries(LOCALE / "de" / "LC_MESSAGES" / "django.po") if "msgctxt" not in e}
    assert {
        "Skip to content",
        "My queue",
        "Team queue",
        "Audit trail",
        "Log out",
        "Not found",
        "Log in to CVX",
    } <= staff
