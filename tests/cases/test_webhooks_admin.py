"""Webhooks and chat channels in the admin: the target guard on save, and
deliveries seen and redelivered by CX admins alone."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from cases.webhooks.models import ChatChannel, Delivery, DeliveryStatus, Webhook

pytestmark = pytest.mark.django_db

ADD_WEBHOOK = "admin:cases_webhook_add"
ADD_CHANNEL = "admin:cases_chatchannel_add"
DELIVERIES = "admin:cases_delivery_changelist"


@pytest.fixture
def admin_client(client, cx_admin, settings):
    settings.CVX_WEBHOOK_ALLOW_LOOPBACK = False
    client.force_login(cx_admin)
    return client


def _webhook_form(url: str) -> dict:
    return {"name": "CRM", "url": url, "events": ["case.opened", "survey.answered"], "secret": "s" * 40, "active": "on"}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://10.0.0.1/hook", "10.0.0.1 is a private address"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("https://localhost/hook", "is a loopback address"),
        ("http://93.184.215.14/hook", "must start with https://"),
    ],
)
def test_a_webhook_to_an_inside_address_is_refused_on_save_with_the_reason(admin_client, url, message):
    reply = admin_client.post(reverse(ADD_WEBHOOK), _webhook_form(url))
    assert reply.status_code == 200  # the form again, with the error on the URL
    assert message in " ".join(reply.context["adminform"].form.errors["url"])
    assert not Webhook.objects.exists()


def test_a_cx_admin_subscribes_a_public_https_target(admin_client):
    reply = admin_client.post(reverse(ADD_WEBHOOK), _webhook_form("https://93.184.215.14/hooks/cvx"))
    assert reply.status_code == 302
    hook = Webhook.objects.get()
    assert hook.events == ["case.opened", "survey.answered"] and hook.active
    assert LogEntry.objects.filter(object_id=str(hook.pk)).exists()  # the admin's history of the change


def test_a_chat_channel_is_checked_like_a_webhook(admin_client, team):
    form = {"name": "care", "team": team.pk, "kind": "teams", "events": ["breached"], "active": "on"}
    refused = admin_client.post(reverse(ADD_CHANNEL), {**form, "url": "https://192.168.0.10/in"})
    assert "192.168.0.10 is a private address" in " ".join(refused.context["adminform"].form.errors["url"])
    assert admin_client.post(reverse(ADD_CHANNEL), {**form, "url": "https://93.184.215.14/in"}).status_code == 302
    assert ChatChannel.objects.get().events == ["breached"]


@pytest.fixture
def dead_delivery(db):
    hook = Webhook.objects.create(name="CRM", url="https://93.184.215.14/", events=["case.opened"])
    return Delivery.objects.create(
        webhook=hook,
        event="case.opened",
        event_id="4b1c1f7e-5d7a-4a7e-9d55-1b5c2a9c0d11",
        body='{"data":{"comment":"secret words"}}',
        status=DeliveryStatus.DEAD,
        attempts=8,
        last_error="HTTP 500.",
    )


def test_deliveries_are_for_cx_admins_alone(client, dead_delivery, cx_admin, lead, agent):
    for person in (lead, agent):
        client.force_login(person)
        assert client.get(reverse(DELIVERIES)).status_code in (302, 403)
        change = reverse("admin:cases_delivery_change", args=[dead_delivery.pk])
        assert client.get(change).status_code in (302, 403)
    client.force_login(cx_admin)
    listed = client.get(reverse(DELIVERIES))
    assert listed.status_code == 200 and list(listed.context["cl"].result_list) == [dead_delivery]
    page = client.get(reverse("admin:cases_delivery_change", args=[dead_delivery.pk])).content.decode()
    assert "secret words" in page and "HTTP 500." in page


def test_the_redeliver_action_queues_a_dead_letter_again(admin_client, dead_delivery, monkeypatch):
    sent = []
    monkeypatch.setattr("cases.webhooks.services.async_task", lambda name, pk: sent.append((name, pk)))
    reply = admin_client.post(
        reverse(DELIVERIES),
        {"action": "redeliver", "_selected_action": [dead_delivery.pk]},
        follow=True,
    )
    assert "1 delivery(ies) queued again" in reply.content.decode()
    dead_delivery.refresh_from_db()
    assert (dead_delivery.status, dead_delivery.attempts) == (DeliveryStatus.PENDING, 0)
    assert LogEntry.objects.get(object_id=str(dead_delivery.pk)).change_message == "Redelivered (was Dead letter)."
