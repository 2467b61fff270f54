"""Notifications become per person: in the app (read or not) and by email as
each person chooses (NotificationPreference). Each is unique per (event,
user) instead of (event, address).

Rows from before were emails only: each is given the person with that
address when exactly one has it (so a task still in flight for an old event
does not email them again), the kind its event implies, and counts as read
(it was news by email, not something to catch up on in the app).
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

# Event kind -> notification kind, as the emails of before were sent.
_KINDS = {
    "case.assigned": "assigned",
    "case.escalated": "escalated",
    "case.sla_breached": "breached",
    "case.customer_replied": "customer_replied",
    "case.message_failed": "message_failed",
}


def _give_earlier_emails_their_person(apps, schema_editor):
    Notification = apps.get_model("cases", "Notification")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    for note in Notification.objects.filter(user__isnull=True).select_related("event").iterator(chunk_size=1000):
        users = (
            list(User.objects.filter(email__iexact=note.recipient).values_list("pk", flat=True)[:2])
            if note.recipient
            else []
        )
        if len(users) != 1 or Notification.objects.filter(event_id=note.event_id, user_id=users[0]).exists():
            users = [None]
        Notification.objects.filter(pk=note.pk).update(
            user_id=users[0],
            kind=_KINDS.get(note.event.kind, ""),
            read_at=note.claimed_at,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("cases", "0014_search_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="NotificationPreference",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="notification_preference",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("email_off", models.JSONField(blank=True, default=list)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.RemoveConstraint(
            model_name="notification",
            name="notification_once",
        ),
        migrations.AddField(
            model_name="notification",
            name="kind",
            field=models.CharField(
                blank=True,
                choices=[
                    ("assigned", "A case is assigned to me"),
                    ("customer_replied", "The customer of my case replied"),
                    ("negative_feedback", "The customer of my open case gave new negative feedback"),
                    ("not_recovered", "The follow-up of my case says the customer was not recovered"),
                    ("breached", "My case, or a case of the team I lead, breached its SLA"),
                    ("escalated", "A case of the team I lead was escalated"),
                    ("team_queue", "A new case waits unassigned in the queue of the team I lead"),
                    ("message_failed", "An email to the customer of my case was not delivered"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="read_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="notification",
            name="user",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="notifications",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="recipient",
            field=models.EmailField(blank=True, max_length=254),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(fields=["user", "id"], name="notification_user_id"),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("read_at__isnull", True)), fields=["user"], name="notification_user_unread"
            ),
        ),
        migrations.AddConstraint(
            model_name="notification",
            constraint=models.UniqueConstraint(fields=("event", "user"), name="notification_once_per_user"),
        ),
        # Last: on PostgreSQL, no ALTER TABLE may follow row updates in one transaction.
        migrations.RunPython(_give_earlier_emails_their_person, migrations.RunPython.noop, elidable=True),
    ]
