"""Keyed audit hashes and signed checkpoints.

Events already in the trail were hashed without a key: they are marked
version 1 (verified as such, and reported as weaker); new events are
version 2, keyed with CVX_AUDIT_KEY (cases.audit.chain)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0006_event_case_index_in_unique"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("number", models.PositiveIntegerField(unique=True)),
                ("created_at", models.DateTimeField()),
                ("case_count", models.PositiveIntegerField()),
                ("event_count", models.PositiveBigIntegerField()),
                ("max_event_id", models.PositiveBigIntegerField()),
                (
                    "legacy_max_event_id",
                    models.PositiveBigIntegerField(
                        help_text="The highest id of an unkeyed (version 1) event; none may come after it."
                    ),
                ),
                ("root", models.CharField(max_length=64)),
                ("prev", models.CharField(help_text="The previous checkpoint's signature.", max_length=64)),
                ("key_id", models.CharField(help_text="Which CVX_AUDIT_KEY signed it (not the key).", max_length=16)),
                ("signature", models.CharField(max_length=64)),
            ],
            options={
                "ordering": ["number"],
            },
        ),
        migrations.AddField(
            model_name="caseevent",
            name="version",
            field=models.PositiveSmallIntegerField(default=1),
            preserve_default=False,
        ),
        migrations.CreateModel(
            name="AuditCheckpointHead",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("case_id", models.PositiveBigIntegerField()),
                ("seq", models.PositiveIntegerField()),
                ("hash", models.CharField(max_length=64)),
                ("state", models.CharField(help_text="Digest of the case row's tracked fields.", max_length=32)),
                (
                    "checkpoint",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="heads", to="cases.auditcheckpoint"
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["case_id", "checkpoint"], name="checkpoint_head_case")],
                "constraints": [
                    models.UniqueConstraint(fields=("checkpoint", "case_id"), name="checkpoint_head_unique")
                ],
            },
        ),
        migrations.CreateModel(
            name="VerificationRun",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[("full", "Full"), ("incremental", "Since the last good checkpoint")], max_length=12
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("running", "Running"),
                            ("passed", "Passed"),
                            ("failed", "Breaks found"),
                            ("error", "Did not finish"),
                        ],
                        default="queued",
                        max_length=8,
                    ),
                ),
                ("active", models.BooleanField(default=True, null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("heartbeat_at", models.DateTimeField(blank=True, help_text="Last progress saved.", null=True)),
                (
                    "claimed_until",
                    models.DateTimeField(blank=True, help_text="A task works on it until then.", null=True),
                ),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("total", models.PositiveIntegerField(default=0)),
                ("done", models.PositiveIntegerField(default=0)),
                (
                    "cursor",
                    models.PositiveBigIntegerField(default=0, help_text="Full runs: the last case id verified."),
                ),
                ("events_checked", models.PositiveBigIntegerField(default=0)),
                ("legacy_events", models.PositiveBigIntegerField(default=0)),
                ("break_count", models.PositiveIntegerField(default=0)),
                (
                    "breaks",
                    models.JSONField(blank=True, default=list, help_text="The first breaks found (at most 1,000)."),
                ),
                ("message", models.TextField(blank=True)),
                (
                    "baseline",
                    models.ForeignKey(
                        blank=True,
                        help_text="Incremental runs: the last good checkpoint they started from.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="cases.auditcheckpoint",
                    ),
                ),
                (
                    "checkpoint",
                    models.ForeignKey(
                        blank=True,
                        help_text="The checkpoint the run verified the trail against.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="cases.auditcheckpoint",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty: the schedule.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "constraints": [models.UniqueConstraint(fields=("active",), name="one_active_verification_run")],
            },
        ),
    ]
