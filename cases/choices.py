from django.db import models


class CaseStatus(models.TextChoices):
    NEW = "new", "New"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    CONTACTED = "contacted", "Contacted"
    ESCALATED = "escalated", "Escalated"
    REOPENED = "reopened", "Reopened"
    RESOLVED = "resolved", "Resolved"
    AWAITING_FOLLOW_UP = "awaiting_follow_up", "Awaiting follow-up"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"
    # An opportunity's ends (cases.policy: opportunities only). An open
    # opportunity is `new` and, once the customer is reached, `contacted`:
    # the same meaning, due times and queue handling as a complaint's.
    WON = "won", "Won"
    LOST = "lost", "Lost"
    NO_ANSWER = "no_answer", "No answer"


class CaseKind(models.TextChoices):
    """A complaint is a customer to win back (the loop and its metrics); an
    opportunity is a promoter to ask for a referral, a review or more business."""

    COMPLAINT = "complaint", "Complaint"
    OPPORTUNITY = "opportunity", "Opportunity"


class OpportunityKind(models.TextChoices):
    REFERRAL = "referral", "Referral"
    REVIEW = "review", "Review / testimonial"
    UPSELL = "upsell", "Upsell"


OPEN_STATUSES = (
    CaseStatus.NEW,
    CaseStatus.ACKNOWLEDGED,
    CaseStatus.CONTACTED,
    CaseStatus.ESCALATED,
    CaseStatus.REOPENED,
)


class CaseOutcome(models.TextChoices):
    RECOVERED = "recovered", "Recovered"
    NOT_RECOVERED = "not_recovered", "Not recovered"
    NO_RESPONSE = "no_response", "No response"
    CANCELLED = "cancelled", "Cancelled"


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class AssignmentStrategy(models.TextChoices):
    DEFAULT_OWNER = "default_owner", "Touchpoint's default owner"
    ROUND_ROBIN = "round_robin", "Round-robin over active team members"
    LEAST_LOADED = "least_loaded", "Member with the fewest open cases"
    TEAM_LEAD = "team_lead", "The team's lead"


class RoutingOutcome(models.TextChoices):
    OPENED = "opened", "Opened a case"
    ATTACHED = "attached", "Attached to the customer's open case"
    NO_MATCH = "no_match", "No rule matched"
    FOLLOW_UP = "follow_up", "Answered a follow-up survey"


class EventKind(models.TextChoices):
    """Dotted names of audit events; the value is what is stored and hashed."""

    OPENED = "case.opened", "Opened"
    FEEDBACK_ATTACHED = "case.feedback_attached", "Feedback attached"
    ASSIGNED = "case.assigned", "Assigned"
    ACKNOWLEDGED = "case.acknowledged", "Acknowledged"
    CONTACTED = "case.contacted", "Contact logged"
    NOTE = "case.note", "Note"
    ESCALATED = "case.escalated", "Escalated"
    SLA_BREACHED = "case.sla_breached", "SLA breached"
    RESOLVED = "case.resolved", "Resolved"
    REOPENED = "case.reopened", "Reopened"
    CANCELLED = "case.cancelled", "Cancelled"
    FOLLOW_UP_SENT = "case.follow_up_sent", "Follow-up sent"
    FOLLOW_UP_SKIPPED = "case.follow_up_skipped", "Follow-up not sent"
    FOLLOW_UP_ANSWERED = "case.follow_up_answered", "Follow-up answered"
    CLOSED = "case.closed", "Closed"
    MESSAGE_FAILED = "case.message_failed", "Email not delivered"
    CUSTOMER_REPLIED = "case.customer_replied", "Customer replied"
    WON = "case.won", "Won"
    LOST = "case.lost", "Lost"
    NO_ANSWER = "case.no_answer", "No answer"


class NotificationKind(models.TextChoices):
    """What a person is told of (cases.notifications.rules): in the app always,
    by email as each person chooses, kind by kind (NotificationPreference)."""

    ASSIGNED = "assigned", "A case is assigned to me"
    CUSTOMER_REPLIED = "customer_replied", "The customer of my case replied"
    NEGATIVE_FEEDBACK = "negative_feedback", "The customer of my open case gave new negative feedback"
    NOT_RECOVERED = "not_recovered", "The follow-up of my case says the customer was not recovered"
    BREACHED = "breached", "My case, or a case of the team I lead, breached its SLA"
    ESCALATED = "escalated", "A case of the team I lead was escalated"
    TEAM_QUEUE = "team_queue", "A new case waits unassigned in the queue of the team I lead"
    MESSAGE_FAILED = "message_failed", "An email to the customer of my case was not delivered"


class ContactChannel(models.TextChoices):
    PHONE = "phone", "Phone"
    EMAIL = "email", "Email"
    CHAT = "chat", "Chat"
    SMS = "sms", "SMS"
    IN_PERSON = "in_person", "In person"
    SOCIAL = "social", "Social"
