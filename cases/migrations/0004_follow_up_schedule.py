from django.db import migrations
from django.utils import timezone


def forwards(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name="cvx: follow-up sweep",
        defaults={
            "func": "cases.tasks.follow_up_sweep",
            "schedule_type": "I",
            "minutes": 15,
            "repeats": -1,
            "next_run": timezone.now(),
        },
    )


def backwards(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="cvx: follow-up sweep").delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_follow_up")]

    operations = [migrations.RunPython(forwards, backwards)]
