"""Topics: defined in the admin, tagged at ingestion with the text engine's
token phrases, counted for the insight pages; free terms only as
"unassigned terms", never a stop word."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nltk.sentiment.vader import VaderConstants

from feedback import lexicon
from feedback.lexicon import current_topics, topic_delete, topic_save
from feedback.models import FeedbackResponse, LexiconChange, ResponseTopic, Topic
from feedback.services import CREATED, feedback_ingest, feedback_ingest_many
from feedback.stopwords import STOP_WORDS
from feedback.text import defaults as text_defaults
from feedback.text import engine as text_engine
from feedback.themes import TopicMatcher, TopicSpec, comment_themes, extract_themes, topic_figures, unassigned_terms
from journeys.models import Touchpoint

TOPICS_URL = "/admin/feedback/topic/"
MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)


def ingest(n: int, comment: str, *, touchpoint: str = "fault-line", at: datetime = MONDAY) -> FeedbackResponse:
    outcome = feedback_ingest(
        item={
            "touchpoint": touchpoint,
            "source": "chat",
            "external_id": f"t{n}",
            "comment": comment,
            "occurred_at": at.isoformat(),
        }
    )
    assert outcome.status == CREATED, outcome.errors
    return outcome.response


def topic_names(response: FeedbackResponse) -> list[str]:
    return sorted(response.topics.values_list("name", flat=True))


@pytest.fixture
def store(touchpoint, other_team):
    return Touchpoint.objects.create(
        stage=touchpoint.stage, name="Store", slug="store", channel="store", team=other_team
    )


@pytest.fixture
def topics(db):
    return {
        "billing": topic_save(actor=None, name="Billing", phrases=["bill", "charged ... twice", "refund"]),
        "app": topic_save(actor=None, name="App", phrases=["app"]),
        "crashes": topic_save(actor=None, name="App crashes", phrases=["app keeps crashing", "app crashes"]),
        "visits": topic_save(
            actor=None, name="Engineer visits", phrases=["engineer", "{number} days without {service}"]
        ),
    }


# --- matching -------------------------------------------------------------------------------


def test_every_matching_topic_tags_a_comment_not_only_the_longest_phrase():
    matcher = TopicMatcher([TopicSpec(1, ["app"]), TopicSpec(2, ["app keeps crashing"]), TopicSpec(3, ["router"])])

    assert matcher.topics("Great service but the app keeps crashing") == [1, 2]
    assert matcher.topics("The APP is fine") == [1]
    assert matcher.topics("") == [] and TopicMatcher([]).topics("app") == []


def test_topic_phrases_use_the_engines_slots_gaps_and_spellings():
    matcher = TopicMatcher(
        [
            TopicSpec(1, ["charged ... twice"]),
            TopicSpec(2, ["{number} days without {service}"]),
            TopicSpec(3, ["engineer"]),
        ]
    )

    assert matcher.topics("They charged me for the same month twice") == [1]
    assert matcher.topics("Three days without internet!") == [2]
    assert matcher.topics("the enginer never came") == [3]  # a known misspelling
    assert matcher.topics("twice they charged me") == []


def test_a_topic_limited_to_touchpoints_tags_only_their_feedback():
    matcher = TopicMatcher([TopicSpec(1, ["queue"], frozenset({7})), TopicSpec(2, ["queue"])])

    assert matcher.topics("Long queue", 7) == [1, 2]
    assert matcher.topics("Long queue", 8) == [2]


_WORDS = [
    "app",
    "keeps",
    "crashing",
    "charged",
    "me",
    "twice",
    "3",
    "days",
    "without",
    "internet",
    "enginer",
    "engineer",
]
_PIECES = _WORDS + ["APP", "not", "😡", "👍", ",", ".", "!", "'", '"', "but", "never"]


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=4)), max_size=30), st.sampled_from([None, 7, 8]))
def test_topics_matched_in_the_analysis_tokens_equal_topics_of_the_text(pieces, touchpoint):
    """Ingestion tags topics in the tokens the CX layer read (one reading of
    each comment): the same topics as reading the text again, and the same
    analysis as analyse()."""
    matcher = TopicMatcher(
        [
            TopicSpec(1, ["app keeps crashing", "app"]),
            TopicSpec(2, ["charged ... twice"]),
            TopicSpec(3, ["{number} days without {service}"], frozenset({7})),
            TopicSpec(4, ["engineer"]),
        ]
    )
    lexicon = text_engine.default_lexicon()
    text = " ".join(pieces)
    analysis, tokens = lexicon.read(text)
    assert analysis == lexicon.analyse(text)
    assert matcher.topics_in(tokens, touchpoint) == matcher.topics(text, touchpoint)


def test_a_blank_comment_has_no_tokens_and_no_topics():
    matcher = TopicMatcher([TopicSpec(1, ["app"])])
    analysis, tokens = text_engine.default_lexicon().read(" \n ")
    assert tokens is None and analysis.label == "neutral"
    assert matcher.topics_in(tokens) == [] and matcher.topics_in(text_engine.default_lexicon().read("app")[1]) == [1]


# --- the admin and the service -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_topic_saved_in_the_admin_is_normalised_and_logged(client, cx_admin, touchpoint):
    client.force_login(cx_admin)

    response = client.post(
        f"{TOPICS_URL}add/",
        {
            "name": " Billing  errors ",
            "active": "on",
            "phrases": "Billing Error\n\n  charged ... TWICE \nbilling error",
            "touchpoints": [touchpoint.pk],
        },
    )

    assert response.status_code == 302
    topic = Topic.objects.get()
    assert (topic.name, topic.phrases) == ("Billing errors", ["billing error", "charged ... twice"])
    assert list(topic.touchpoints.all()) == [touchpoint]
    change = LexiconChange.objects.get()
    assert (change.action, change.actor, change.after["phrases"]) == (
        "topic.created",
        cx_admin,
        ["billing error", "charged ... twice"],
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("phrases", "message"),
    [
        ("billing\n(refund|credit).*", "Line 2: phrase: “(refund|credit).*” is not a plain word"),
        ("   \n\n", "required"),
        ("... refund", "cannot come first or last"),
    ],
)
def test_bad_topic_phrases_are_refused_naming_the_line(client, cx_admin, phrases, message):
    client.force_login(cx_admin)

    response = client.post(f"{TOPICS_URL}add/", {"name": "Billing", "active": "on", "phrases": phrases})

    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors["phrases"])
    assert not Topic.objects.exists()


@pytest.mark.django_db
def test_the_service_refuses_a_blank_or_taken_name(topics):
    with pytest.raises(ValidationError) as blank:
        topic_save(actor=None, name="  ", phrases=["x"])
    with pytest.raises(ValidationError) as taken:
        topic_save(actor=None, name="billing", phrases=["x"])

    assert set(blank.value.message_dict) == {"name"} and set(taken.value.message_dict) == {"name"}


@pytest.mark.django_db
def test_frontline_may_not_edit_topics(client, agent):
    client.force_login(agent)

    assert client.get(TOPICS_URL).status_code in (302, 403)
    with pytest.raises(lexicon.PermissionDenied):
        topic_save(actor=agent, name="Billing", phrases=["bill"])


# --- tagging at ingestion -----------------------------------------------------------------------


@pytest.mark.django_db
def test_ingestion_tags_each_response_with_its_topics(topics, touchpoint):
    responses = feedback_ingest_many(
        items=[
            {"touchpoint": "fault-line", "source": "chat", "external_id": f"b{n}", "comment": text}
            for n, text in enumerate(
                [
                    "Great service but the app keeps crashing",
                    "Charged me twice, want a refund",
                    "Lovely day",
                    "Five days without broadband, no engineer",
                ]
            )
        ]
    )

    assert [topic_names(o.response) for o in responses] == [
        ["App", "App crashes"],
        ["Billing"],
        [],
        ["Engineer visits"],
    ]


@pytest.mark.django_db
def test_a_new_topic_tags_the_next_response_without_a_restart(topics, touchpoint):
    assert topic_names(ingest(1, "The router light is red")) == []

    topic_save(actor=None, name="Router", phrases=["router"])

    assert topic_names(ingest(2, "The router light is red")) == ["Router"]


@pytest.mark.django_db
def test_an_inactive_or_out_of_scope_topic_tags_nothing_new(topics, touchpoint, store):
    topic_save(actor=None, name="Billing", phrases=["bill"], active=False, topic_id=topics["billing"].pk)
    topic_save(actor=None, name="App", phrases=["app"], touchpoint_ids=[store.pk], topic_id=topics["app"].pk)

    assert topic_names(ingest(1, "My bill is wrong")) == []
    assert topic_names(ingest(2, "The app is slow")) == []
    assert topic_names(ingest(3, "The app is slow", touchpoint="store")) == ["App"]


@pytest.mark.django_db
def test_a_topic_deleted_while_a_batch_is_read_is_not_tagged_and_nothing_fails(topics, touchpoint, monkeypatch):
    real = lexicon.TopicMatcher.topics_in  # what ingestion calls, on the tokens the CX layer read

    def read_then_delete(self, tokens, touchpoint_id=None):
        found = real(self, tokens, touchpoint_id)
        Topic.objects.filter(pk=topics["app"].pk).delete()  # another admin, meanwhile
        return found

    monkeypatch.setattr(lexicon.TopicMatcher, "topics_in", read_then_delete)

    response = ingest(1, "The app keeps crashing")

    assert topic_names(response) == ["App crashes"]


# --- figures for the insight pages ----------------------------------------------------------------


@pytest.mark.django_db
def test_topic_figures_give_volume_share_negative_and_weekly_trend(topics, touchpoint):
    ingest(1, "Charged twice, disgraceful", at=MONDAY)
    ingest(2, "Refund arrived, thanks", at=MONDAY + timedelta(days=1))
    ingest(3, "Wrong bill again, useless", at=MONDAY + timedelta(days=7))
    ingest(4, "The app is lovely", at=MONDAY + timedelta(days=8))

    figures = {f.name: f for f in topic_figures(FeedbackResponse.objects.all())}

    billing = figures["Billing"]
    assert (billing.volume, billing.negative) == (3, 2)
    assert billing.share_negative == pytest.approx(2 / 3)
    assert billing.trend == [(date(2026, 3, 2), 2), (date(2026, 3, 9), 1)]
    assert (figures["App"].volume, figures["App"].negative, figures["App"].trend) == (1, 0, [(date(2026, 3, 9), 1)])
    assert list(figures) == ["Billing", "App"]  # by volume


@pytest.mark.django_db
def test_topic_figures_count_only_the_responses_given(topics, touchpoint, store):
    ingest(1, "Wrong bill, useless")
    ingest(2, "Wrong bill, useless", touchpoint="store")

    figures = topic_figures(FeedbackResponse.objects.filter(touchpoint=store))

    assert [(f.name, f.volume) for f in figures] == [("Billing", 1)]


@pytest.mark.django_db
def test_unassigned_terms_come_from_negative_comments_no_topic_caught(topics, touchpoint):
    ingest(1, "Wrong bill, absolutely useless")  # a topic caught it
    ingest(2, "The router keeps rebooting, absolutely useless")  # none did
    ingest(3, "The router is lovely")  # not negative

    terms, read = unassigned_terms(FeedbackResponse.objects.all())

    phrases = {theme.phrase for theme in terms}
    assert read == 1
    assert "router" in phrases and "bill" not in phrases and "wrong" not in phrases


# --- stop words by rule ---------------------------------------------------------------------------


def test_want_twice_and_absolutely_are_never_themes():
    comments = ["I want a refund, charged twice, absolutely useless", "Absolutely want my money back twice over"]

    phrases = {theme.phrase for theme in extract_themes(comments, top=50)}

    assert phrases.isdisjoint({"want", "twice", "absolutely"})
    assert {"refund", "charged", "useless", "money"} <= phrases


@pytest.mark.parametrize(
    "word",
    sorted(
        w
        for w in (
            *VaderConstants.BOOSTER_DICT,
            *VaderConstants.NEGATE,
            *text_defaults.NUMBER_WORDS,
            *text_defaults.ORDINAL_WORDS,
            *text_defaults.RESOLUTION_WISHES,
            "once",
            "twice",
            "thrice",
        )
        if " " not in w and "-" not in w
    ),
)
def test_no_degree_negation_count_or_wish_word_is_a_theme(word):
    assert word in STOP_WORDS
    assert comment_themes(f"{word} outage") == {"outage"}


def test_content_words_remain_themes():
    assert comment_themes("engineer router billing refund outage") >= {"engineer", "router", "billing", "refund"}


# --- tagging stored responses ---------------------------------------------------------------------


@pytest.mark.django_db
def test_rescore_with_topics_tags_stored_responses_and_is_idempotent(topics, touchpoint):
    old = ingest(1, "The router light is red")
    router = topic_save(actor=None, name="Router", phrases=["router"])
    out = StringIO()

    call_command(
        "rescore_feedback", "--since", "2026-01-01", "--topics", "--no-progress", stdout=out, stderr=StringIO()
    )

    assert topic_names(old) == ["Router"]
    assert "1 changed topics" in out.getvalue()

    topic_save(actor=None, name="Router", phrases=["modem"], topic_id=router.pk)
    again = StringIO()
    call_command(
        "rescore_feedback", "--since", "2026-01-01", "--topics", "--no-progress", stdout=again, stderr=StringIO()
    )
    assert topic_names(old) == []
    assert "1 changed topics" in again.getvalue()

    last = StringIO()
    call_command(
        "rescore_feedback", "--since", "2026-01-01", "--topics", "--no-progress", stdout=last, stderr=StringIO()
    )
    assert "0 changed topics" in last.getvalue()


@pytest.mark.django_db
def test_deleting_a_topic_removes_its_tags_and_logs_it(topics, touchpoint):
    response = ingest(1, "Wrong bill")
    assert topic_names(response) == ["Billing"]

    topic_delete(actor=None, topic_id=topics["billing"].pk)

    assert not ResponseTopic.objects.exists()
    assert LexiconChange.objects.order_by("-id").first().action == "topic.deleted"
    assert current_topics().topics("Wrong bill") == []


# --- the insight page ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_touchpoint_insight_page_shows_topics_and_unassigned_terms(client, lead, topics, touchpoint):
    now = datetime.now(UTC) - timedelta(days=1)
    ingest(1, "Wrong bill, useless", at=now)
    ingest(2, "Refund arrived, thanks", at=now)
    ingest(3, "The router keeps rebooting, useless", at=now)
    client.force_login(lead)

    page = client.get("/cases/insights/touchpoints/fault-line/").content.decode()

    topics_part = page[page.index('id="topics-h"') : page.index('id="themes-h"')]
    assert "<td>Billing</td><td>2</td><td>1 (50 %)</td>" in topics_part
    terms_part = page[page.index('id="themes-h"') :]
    assert "Unassigned terms" in terms_part and "<b>router</b>" in terms_part and "<b>bill</b>" not in terms_part


@pytest.mark.django_db
def test_the_feedback_admin_names_a_responses_topics(client, cx_admin, topics, touchpoint):
    response = ingest(1, "Great service but the app keeps crashing")
    client.force_login(cx_admin)

    page = client.get(f"/admin/feedback/feedbackresponse/{response.pk}/change/").content.decode()

    assert "App, App crashes" in page
