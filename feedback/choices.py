from django.db import models


class SentimentLabel(models.TextChoices):
    NEGATIVE = "negative", "Negative"
    NEUTRAL = "neutral", "Neutral"
    POSITIVE = "positive", "Positive"
