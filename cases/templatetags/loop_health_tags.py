"""{% loop_health_figures as health %}: the admin home's loop health (cases.loop_health)."""

from django import template

from cases.loop_health import loop_health

register = template.Library()


@register.simple_tag(takes_context=True)
def loop_health_figures(context):
    """The figures for the request's user; None when they may not see them."""
    request = context.get("request")
    return loop_health(request.user) if request is not None else None
