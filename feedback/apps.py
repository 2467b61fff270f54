from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "feedback"

    def ready(self) -> None:
        from django.core import checks

        from feedback.checks import TAG, check_vader_lexicon

        checks.register(check_vader_lexicon, TAG)

        from feedback.journey_figures import touchpoint_scores_and_topics
        from journeys.selectors import touchpoint_figures

        # Scores and negative topics beside touchpoints on the journeys admin's side-by-side page.
        if touchpoint_scores_and_topics not in touchpoint_figures:
            touchpoint_figures.append(touchpoint_scores_and_topics)
