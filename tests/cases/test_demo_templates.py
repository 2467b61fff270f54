"""seed_demo's reply templates: a new user of `make run` can reply with one at once."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from cases.demo import REPLY_TEMPLATES
from cases.messaging.models import DeliveryStatus, ReplyTemplate
from cases.messaging.render import placeholder_errors
from cases.messaging.services import customer_email, templates_for
from cases.models import Case

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CVX_MAIL_RETRY_SECONDS = 0


def test_the_demo_seeds_reply_templates_once_and_keeps_an_admins_edit(capsys):
    call_command("seed_demo", "--history", "0")
    templates = {t.name: t for t in ReplyTemplate.objects.select_related("team")}
    assert set(templates) == set(REPLY_TEMPLATES) and len(templates) >= 1
    assert any(t.team is None for t in templates.values())  # offered on every team's cases
    assert {t.team.slug for t in templates.values() if t.team} <= {"care", "digital", "stores"}
    for template in templates.values():
        assert template.active and placeholder_errors({"subject": template.subject, "body": template.body}) == {}
        assert "{{ case.number }}" in template.subject + template.body
    edited = templates["Apology and next step"]
    ReplyTemplate.objects.filter(pk=edited.pk).update(body="Hello {{ customer.name }}, our own words.")
    call_command("seed_demo", "--history", "0")
    assert ReplyTemplate.objects.count() == len(templates)
    assert ReplyTemplate.objects.get(pk=edited.pk).body == "Hello {{ customer.name }}, our own words."


def test_an_agent_replies_to_a_demo_case_with_a_demo_template(api, django_capture_on_commit_callbacks):
    call_command("seed_demo", "--history", "40")
    case = (
        Case.objects.filter(owner__isnull=False, status__in=["new", "acknowledged", "contacted"])
        .select_related("owner", "customer", "team")
        .order_by("pk")
        .first()
    )
    assert case is not None and customer_email(case) and case.customer.name  # demo customers are named
    offered = list(templates_for(case))
    assert "Apology and next step" in [t.name for t in offered]
    assert all(t.team_id in (None, case.team_id) for t in offered)
    template = next(t for t in offered if t.name == "Apology and next step")
    with django_capture_on_commit_callbacks(execute=True):
        reply = api(case.owner).post(f"/api/v1/cases/{case.pk}/messages/", {"template": template.pk}, format="json")
    assert reply.status_code == 201, reply.json()
    message = case.messages.get()
    assert message.status == DeliveryStatus.SENT
    assert case.number in message.subject and case.touchpoint.name in message.subject
    owner = get_user_model().objects.get(pk=case.owner_id)
    assert f"Hello {case.customer.name}," in message.body and owner.get_full_name() in message.body
    assert "{{" not in message.subject + message.body
