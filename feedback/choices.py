from django.db import models


class SentimentLabel(models.TextChoices):
    NEGATIVE = "negative", "Negative"
    NEUTRAL = "neutral", "Neutral"
    POSITIVE = "positive", "Positive"


class FeedbackKind(models.TextChoices):
    DIRECT = "direct", "Direct (survey)"
    INDIRECT = "indirect", "Indirect (social, reviews)"
    INFERRED = "inferred", "Inferred (operational signal)"


class NpsCategory(models.TextChoices):
    PROMOTER = "promoter", "Promoter"
    PASSIVE = "passive", "Passive"
    DETRACTOR = "detractor", "Detractor"


class CsatBand(models.TextChoices):
    SATISFIED = "satisfied", "Satisfied (4–5)"
    NEUTRAL = "neutral", "Neutral (3)"
    DISSATISFIED = "dissatisfied", "Dissatisfied (1–2)"


class IdentityKind(models.TextChoices):
    EXTERNAL_ID = "external_id", "External id"
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    SOCIAL = "social", "Social handle"


class SurveyPurpose(models.TextChoices):
    SURVEY = "survey", "Ordinary survey"
    FOLLOW_UP = "follow_up", "Follow-up of a case"


class SurveyLanguage(models.TextChoices):
    """The languages CVX surveys customers in; English is the fallback."""

    EN = "en", "English"
    DE = "de", "Deutsch"
    FR = "fr", "Français"
    ES = "es", "Español"


class SurveyRequestStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SUPPRESSED = "suppressed", "Suppressed by a contact rule"


# The source under which CVX stores the answers to its own invitations, by
# purpose. These sources are reserved: the API, the bulk API and the CSV
# import refuse them (feedback.validation), so no integration can take an
# invitation's key before the customer answers.
SURVEY_SOURCES = {SurveyPurpose.SURVEY: "cvx_survey", SurveyPurpose.FOLLOW_UP: "follow_up"}
RESERVED_SOURCES = frozenset(SURVEY_SOURCES.values())


class Intent(models.TextChoices):
    """What a comment is about, as `feedback.text` detects it (its INTENTS;
    a test keeps the two equal). A response stores a list of these."""

    COMPLAINT = "complaint", "Complaint"
    CHURN_RISK = "churn_risk", "Churn risk"
    HIGH_EFFORT = "high_effort", "High effort"
    COMPLIANCE_RISK = "compliance_risk", "Compliance risk"
    PRAISE = "praise", "Praise"
