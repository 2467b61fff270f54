from django import template

from cases.notifications.selectors import unread_count

register = template.Library()


@register.inclusion_tag("cases/notifications/_bell.html", takes_context=True)
def notification_bell(context) -> dict:
    """The header's bell with the signed-in person's unread count."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"unread": unread_count(user) if user is not None else 0}
