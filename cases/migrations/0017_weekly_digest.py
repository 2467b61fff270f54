"""The weekly digest: who opted out (beside the notification preferences),
the (user, week) claim that sends each digest once, and its django-q2
schedule, installed here as the other schedules are (update_or_create by
name, so running it again changes nothing)."""

from datetime import UTC, datetime, time, timedelta

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

SCHEDULE = "cvx: weekly digest"


def _next_monday_morning():
    # Mondays at 06:00 UTC: the week before is complete in every time zone
    # from UTC-6 eastwards, and leads read it at the start of their week.
    today = django.utils.timezone.now().astimezone(UTC).date()
    monday = today + timedelta(days=7 - today.weekday())
    return datetime.combine(monday, time(6), UTC)


def forwards(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=SCHEDULE,
        defaults={
            "func": "cases.tasks.send_weekly_digests",
            "schedule_type": "W",
            "repeats": -1,
            "next_run": _next_monday_morning(),
        },
    )


def backwards(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0016_routing_rule_position_unique"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="notificationpreference",
            name="weekly_digest",
            field=models.BooleanField(default=True),
        ),
        migrations.CreateModel(
            name="WeeklyDigest",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("week", models.DateField(help_text="The Monday of the week the digest covers.")),
                ("recipient", models.EmailField(max_length=254)),
                ("claimed_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="weekly_digests",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("user", "week"), name="weekly_digest_once_per_user_week")
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
