from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "feedback"

    def ready(self) -> None:
        from django.core import checks

        from feedback.checks import TAG, check_vader_lexicon

        checks.register(check_vader_lexicon, TAG)
