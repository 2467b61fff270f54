from django.db import models


class JourneyState(models.TextChoices):
    CURRENT = "current", "Current state"
    FUTURE = "future", "Future state"
    # A current state replaced by a promoted future-state design: kept for its history, never live.
    ARCHIVED = "archived", "Archived"


class StageSide(models.TextChoices):
    """Service blueprint: whether the customer sees the touchpoint."""

    FRONT = "front", "Front stage (the customer sees it)"
    BACK = "back", "Back stage (a process or policy behind it)"


class Channel(models.TextChoices):
    WEB = "web", "Web"
    MOBILE_APP = "mobile_app", "Mobile app"
    STORE = "store", "Store / branch"
    CALL_CENTER = "call_center", "Call center"
    CHAT = "chat", "Chat"
    EMAIL = "email", "Email"
    SOCIAL = "social", "Social"
    IVR = "ivr", "IVR"
    KIOSK = "kiosk", "Kiosk"
    FIELD_VISIT = "field_visit", "Field visit"
    SURVEY = "survey", "Survey"


class ValueDimension(models.TextChoices):
    FUNCTIONAL = "functional", "Functional"
    ECONOMIC = "economic", "Economic"
    EXPERIENTIAL = "experiential", "Experiential"
    SYMBOLIC = "symbolic", "Symbolic"
