"""Erasure leaves no oracle: once a customer's feedback is erased, any replay
of its (source, external_id) answers the same, whatever the content, so a
replay cannot confirm what the erased text said."""

from __future__ import annotations

import importlib
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from feedback.models import Customer, FeedbackResponse
from feedback.privacy import ERASED_CONTENT_HASH, customer_erase
from feedback.services import CREATED, GONE, GONE_MESSAGE, feedback_ingest

pytestmark = pytest.mark.django_db

URL = "/api/v1/feedback/"
SECRET = "The engineer never came to 12 Acacia Road"


def item(**overrides) -> dict:
    return {
        "touchpoint": "fault-line",
        "source": "survey",
        "external_id": "erased-1",
        "nps": 3,
        "comment": SECRET,
        "customer": {"email": "ann@example.com"},
        **overrides,
    }


@pytest.fixture
def erased(touchpoint) -> FeedbackResponse:
    response = feedback_ingest(item=item()).response
    customer_erase(customer_id=response.customer_id, actor_label="privacy desk")
    return response


def test_erasure_keeps_no_digest_of_the_erased_content(erased):
    stored = FeedbackResponse.objects.get(pk=erased.pk)
    assert stored.content_hash == ERASED_CONTENT_HASH != erased.content_hash


@pytest.mark.parametrize("replay", [item(), item(comment="Something else entirely"), item(nps=10, comment="")])
def test_any_replay_of_an_erased_key_is_410_whatever_the_content(api, integration, erased, replay):
    response = api(token=integration).post(URL, replay, format="json")
    assert response.status_code == 410
    assert response.json() == {"external_id": [GONE_MESSAGE]}
    assert FeedbackResponse.objects.get(pk=erased.pk).comment == ""


def test_bulk_replays_of_an_erased_key_are_the_same_error_whatever_the_content(api, integration, erased):
    items = [item(), item(comment="A guess at what was said"), item(external_id="fresh-1")]
    response = api(token=integration).post(URL + "bulk/", items, format="json")
    assert response.status_code == 200
    first, second, fresh = response.json()["results"]
    assert first["status"] == second["status"] == "error"
    assert first["errors"] == second["errors"] == {"external_id": [GONE_MESSAGE]}
    assert "id" not in first and fresh["status"] == "created"


def test_the_csv_import_rejects_an_erased_key_by_line(erased, tmp_path):
    path = tmp_path / "feedback.csv"
    path.write_text(f"touchpoint,source,external_id,nps,comment\nfault-line,survey,erased-1,3,{SECRET}\n")
    out, err = StringIO(), StringIO()
    call_command("import_feedback", str(path), "--no-progress", stdout=out, stderr=err)
    assert out.getvalue().strip().splitlines()[-1] == "created 0, duplicate 0, rejected 1"
    assert err.getvalue().strip() == f"line 2: external_id: {GONE_MESSAGE}"


def test_the_service_answers_gone_and_hands_back_no_response(erased):
    outcome = feedback_ingest(item=item())
    assert (outcome.status, outcome.response) == (GONE, None)


def test_the_same_external_id_from_another_source_is_still_new(erased):
    assert feedback_ingest(item=item(source="chat")).status == CREATED


def test_responses_erased_before_the_marker_lose_their_digest_in_the_migration(touchpoint):
    erased_before = feedback_ingest(item=item()).response
    kept = feedback_ingest(item=item(external_id="kept-1", customer={"email": "bo@example.com"})).response
    Customer.objects.filter(pk=erased_before.customer_id).update(erased_at=timezone.now())
    migration = importlib.import_module("feedback.migrations.0008_erased_responses_drop_content_hash")
    migration.drop_hashes_of_erased_responses(apps, None)
    assert FeedbackResponse.objects.get(pk=erased_before.pk).content_hash == ERASED_CONTENT_HASH
    assert FeedbackResponse.objects.get(pk=kept.pk).content_hash == kept.content_hash
    assert feedback_ingest(item=item()).status == GONE
