"""The CX lexicon tuned in the admin: validated forms, services that log each
change, and a version stamp that makes every process score the next comment
with the edit, without a restart."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from cvx_site.errors import PermissionDenied
from feedback import lexicon
from feedback.lexicon import (
    current_lexicon,
    intent_phrase_delete,
    intent_phrase_save,
    lexicon_term_delete,
    lexicon_term_save,
)
from feedback.models import FeedbackResponse, IntentPhrase, LexiconChange, LexiconTerm
from feedback.services import CREATED, feedback_ingest
from feedback.text import CXLexicon

pytestmark = pytest.mark.django_db

TERMS_URL = "/admin/feedback/lexiconterm/"
PHRASES_URL = "/admin/feedback/intentphrase/"


@pytest.fixture
def admin_client(client, cx_admin):
    client.force_login(cx_admin)
    return client


def ingest(n: int, comment: str) -> FeedbackResponse:
    outcome = feedback_ingest(
        item={"touchpoint": "fault-line", "source": "chat", "external_id": f"x{n}", "comment": comment}
    )
    assert outcome.status == CREATED, outcome.errors
    return outcome.response


def form_errors(response) -> dict[str, str]:
    form = response.context["adminform"].form
    return {name: " ".join(errors) for name, errors in form.errors.items()}


# --- bad input is refused in the admin, with the field named ------------------------------


@pytest.mark.parametrize("valence", ["4.5", "-7", "100"])
def test_a_valence_outside_vaders_range_is_refused(admin_client, valence):
    response = admin_client.post(f"{TERMS_URL}add/", {"term": "legend", "valence": valence, "active": "on"})

    assert response.status_code == 200
    assert "outside VADER's range" in form_errors(response)["valence"]
    assert not LexiconTerm.objects.exists() and not LexiconChange.objects.exists()


@pytest.mark.parametrize("phrase", ["", "   "])
def test_an_empty_phrase_is_refused(admin_client, phrase):
    response = admin_client.post(
        f"{PHRASES_URL}add/", {"intent": "churn_risk", "phrase": phrase, "negatable": "on", "active": "on"}
    )

    assert response.status_code == 200
    assert "required" in form_errors(response)["phrase"]
    assert not IntentPhrase.objects.exists()


@pytest.mark.parametrize("phrase", ["(cancel|leave).*", "port.+number", "[a-z]+ton", "(a+)+$", "cancel\\s+now"])
def test_a_regex_like_phrase_is_refused_as_not_plain_words(admin_client, phrase):
    response = admin_client.post(
        f"{PHRASES_URL}add/", {"intent": "churn_risk", "phrase": phrase, "negatable": "on", "active": "on"}
    )

    assert response.status_code == 200
    message = form_errors(response)["phrase"]
    assert "not a plain word" in message and "not as regular expressions" in message
    assert not IntentPhrase.objects.exists()


def test_a_regex_like_term_is_refused_too(admin_client):
    response = admin_client.post(f"{TERMS_URL}add/", {"term": "hung.*up", "valence": "-2", "active": "on"})

    assert "not a plain word" in form_errors(response)["term"]


def test_an_unknown_intent_is_refused_by_the_service():
    with pytest.raises(ValidationError) as caught:
        intent_phrase_save(actor=None, intent="upsell", phrase="more speed")

    assert set(caught.value.message_dict) == {"intent"}


def test_a_term_repeating_another_row_is_refused_whatever_its_spacing(admin_client):
    lexicon_term_save(actor=None, term="legend", valence=2.5)

    response = admin_client.post(f"{TERMS_URL}add/", {"term": "  LEGEND ", "valence": "3", "active": "on"})

    assert "already exists" in form_errors(response)["term"]
    assert LexiconTerm.objects.count() == 1


# --- a valid edit is logged and scores the next comment -----------------------------------


def test_a_term_added_in_the_admin_is_stored_normalised_and_logged_with_its_author(admin_client, cx_admin):
    response = admin_client.post(
        f"{TERMS_URL}add/", {"term": "Flibbertigibbet   Again", "valence": "-3", "note": "seen in chat", "active": "on"}
    )

    assert response.status_code == 302
    row = LexiconTerm.objects.get()
    assert (row.term, row.valence, row.note) == ("flibbertigibbet again", -3.0, "seen in chat")
    change = LexiconChange.objects.get()
    assert (change.actor, change.actor_name, change.action) == (cx_admin, "cxadmin", "lexicon.term.created")
    assert change.before is None
    assert change.after == {"term": "flibbertigibbet again", "valence": -3.0, "note": "seen in chat", "active": True}


def test_editing_a_term_in_the_admin_changes_the_next_score_without_a_restart(admin_client, touchpoint):
    before = ingest(1, "The flibbertigibbet again")
    assert before.sentiment_label == "neutral"

    admin_client.post(f"{TERMS_URL}add/", {"term": "flibbertigibbet", "valence": "-3", "active": "on"})
    after = ingest(2, "The flibbertigibbet again")

    assert after.sentiment_label == "negative" and "complaint" in after.intents
    assert ["flibbertigibbet", "negative"] in after.explanation
    assert after.lexicon_version != before.lexicon_version

    row = LexiconTerm.objects.get()
    admin_client.post(f"{TERMS_URL}{row.pk}/change/", {"term": "flibbertigibbet", "valence": "3", "active": "on"})
    again = ingest(3, "The flibbertigibbet again")

    assert again.sentiment_label == "positive"
    change = LexiconChange.objects.order_by("-id").first()
    assert (change.action, change.before["valence"], change.after["valence"]) == ("lexicon.term.changed", -3.0, 3.0)


def test_a_change_committed_elsewhere_reaches_this_process_through_the_version_stamp(touchpoint):
    # This process has built and cached its lexicon ...
    cached = current_lexicon()
    assert current_lexicon() is cached
    # ... then another process commits a change: the rows and a new log entry,
    # nothing in this process's memory.
    LexiconTerm.objects.create(term="flibbertigibbet", valence=-3)
    LexiconChange.objects.create(action="lexicon.term.created", subject="term", token="elsewhere")

    assert current_lexicon() is not cached
    assert ingest(1, "The flibbertigibbet again").sentiment_label == "negative"


def test_the_cached_lexicon_is_kept_while_nothing_changes(touchpoint):
    lexicon_term_save(actor=None, term="flibbertigibbet", valence=-3)
    first = current_lexicon()

    assert current_lexicon() is first
    assert first.version == ingest(1, "The flibbertigibbet again").lexicon_version


def test_without_rows_the_lexicon_is_the_builtin_one_with_its_version():
    assert current_lexicon().version == CXLexicon().version


def test_an_intent_phrase_added_in_the_admin_detects_its_intent(admin_client, touchpoint):
    assert "churn_risk" not in ingest(1, "I am off to the rival lot next month").intents

    response = admin_client.post(
        f"{PHRASES_URL}add/", {"intent": "churn_risk", "phrase": "off to the rival", "negatable": "on", "active": "on"}
    )
    assert response.status_code == 302

    assert "churn_risk" in ingest(2, "I am off to the rival lot next month").intents
    assert "churn_risk" not in ingest(3, "I am not off to the rival lot").intents  # negatable


def test_an_inactive_row_switches_a_builtin_entry_off_and_deleting_it_restores_it(touchpoint):
    assert ingest(1, "Your agent hung up on me").sentiment_label == "negative"

    row = lexicon_term_save(actor=None, term="hung up on", valence=-2.5, active=False)
    lexicon_term_save(actor=None, term="hung up", valence=-2.3, active=False)

    assert ingest(2, "Your agent hung up on me").sentiment_label == "neutral"

    lexicon_term_delete(actor=None, term_id=row.pk)

    assert ingest(3, "Your agent hung up on me").sentiment_label == "negative"
    assert LexiconChange.objects.filter(action="lexicon.term.deleted").count() == 1


def test_a_row_overrides_a_builtin_phrases_negatable_flag(touchpoint):
    assert "churn_risk" not in ingest(1, "I don't want to cancel my contract").intents

    phrase = intent_phrase_save(actor=None, intent="churn_risk", phrase="want to cancel", negatable=False)

    assert "churn_risk" in ingest(2, "I don't want to cancel my contract").intents
    intent_phrase_delete(actor=None, phrase_id=phrase.pk)
    assert "churn_risk" not in ingest(3, "I don't want to cancel my contract").intents


def test_deleting_in_the_admin_goes_through_the_service(admin_client):
    row = lexicon_term_save(actor=None, term="legend", valence=2.5)

    response = admin_client.post(f"{TERMS_URL}{row.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302 and not LexiconTerm.objects.exists()
    assert LexiconChange.objects.order_by("-id").first().before["term"] == "legend"


def test_deleting_several_in_the_admin_logs_each(admin_client):
    rows = [lexicon_term_save(actor=None, term=word, valence=2) for word in ("legend", "hero")]

    admin_client.post(TERMS_URL, {"action": "delete_selected", "_selected_action": [r.pk for r in rows], "post": "yes"})

    assert not LexiconTerm.objects.exists()
    assert LexiconChange.objects.filter(action="lexicon.term.deleted").count() == 2


# --- who may ---------------------------------------------------------------------------------


def test_frontline_may_not_edit_the_lexicon(client, agent):
    client.force_login(agent)

    assert client.get(TERMS_URL).status_code in (302, 403)
    with pytest.raises(PermissionDenied):
        lexicon_term_save(actor=agent, term="legend", valence=2)
    assert not LexiconChange.objects.exists()


def test_an_outsider_sees_neither_the_lexicon_nor_the_builtin_search(client, outsider):
    client.force_login(outsider)

    assert client.get(TERMS_URL).status_code == 302
    assert client.get(f"{TERMS_URL}builtin/?q=hung").status_code == 302


# --- the built-in lexicon is shown, read-only ---------------------------------------------


def test_the_builtin_search_lists_matching_terms_and_phrases(admin_client):
    response = admin_client.get(f"{TERMS_URL}builtin/", {"q": "port my number"})

    assert response.status_code == 200
    phrases = response.context["phrases"]
    assert ("churn_risk", "port my number", True) in phrases
    assert all("port my number" in phrase for _intent, phrase, _n in phrases)
    assert ("hung up on", -2.5) in admin_client.get(f"{TERMS_URL}builtin/", {"q": "hung up"}).context["terms"]


def test_the_changelists_say_rows_add_to_the_builtin_lexicon(admin_client):
    page = admin_client.get(TERMS_URL).content.decode()

    assert "add to or override the built-in CX lexicon" in page and "builtin/" in page
    assert "Search the built-in lexicon" in admin_client.get(PHRASES_URL).content.decode()


def test_the_change_log_is_read_only(admin_client):
    lexicon_term_save(actor=None, term="legend", valence=2)

    assert admin_client.get("/admin/feedback/lexiconchange/").status_code == 200
    assert admin_client.get("/admin/feedback/lexiconchange/add/").status_code == 403


def test_forgetting_the_lexicon_rebuilds_it_from_the_rows():
    lexicon_term_save(actor=None, term="legend", valence=2)
    tuned = current_lexicon()
    lexicon.forget_lexicon()

    assert current_lexicon() is not tuned and current_lexicon().version == tuned.version
