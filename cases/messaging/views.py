"""The case page's messages panel: the conversation with the customer and
the composer. Loaded into the case page by htmx (templates/cases/_messages.html);
it calls the same selectors and service as the API."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from cases import policy
from cases.messaging.forms import MessageForm
from cases.messaging.render import placeholder_values
from cases.messaging.render import render as render_template
from cases.messaging.selectors import case_messages
from cases.messaging.services import case_message_send, customer_email, templates_for
from cases.selectors import cases_to_act_on
from cvx_site.errors import DomainError


def _case(user, pk: int):
    case = cases_to_act_on(user).select_related("customer", "touchpoint", "team").filter(pk=pk).first()
    if case is None:
        raise Http404("No such case, or not one you can see.")
    return case


def _prefilled(case, user, template_id, opened: str | None = None) -> MessageForm:
    """The composer with the chosen template rendered into subject and body;
    `opened`, the composer's signed opening time, is kept across reloads."""
    templates = list(templates_for(case))
    form = MessageForm(templates=templates, case=case, initial={"template": template_id})
    if opened:
        form.initial["opened"] = opened
    # Choosing a template reloads the panel with it rendered (htmx), keeping
    # the time the composer was first opened.
    form.fields["template"].widget.attrs.update(
        {
            "hx-get": reverse("cases:messages", args=[case.pk]),
            "hx-trigger": "change",
            "hx-target": "#case-messages > div",
            "hx-include": "#case-messages [name='opened']",
        }
    )
    chosen = next((t for t in templates if str(t.pk) == str(template_id)), None)
    if chosen is not None:
        values = placeholder_values(case=case, agent=user, email=customer_email(case) or "")
        try:
            form.initial.update(
                subject=render_template(chosen.subject, values, field="subject"),
                body=render_template(chosen.body, values, field="body"),
            )
        except DomainError as exc:
            form.is_valid()  # an unbound form has no errors to add to: show the template's error
            form._errors = {exc.field: form.error_class([exc.message])}
    return form


@login_required
@require_http_methods(["GET", "POST"])
def case_messages_panel(request, pk: int):
    case = _case(request.user, pk)
    can_send = "log_contact" in policy.allowed_actions(request.user, case, member=case.actor_in_team)
    status = 200
    if request.method == "POST" and can_send:
        form = MessageForm(request.POST, templates=templates_for(case), case=case)
        if form.is_valid():
            try:
                case_message_send(
                    case_id=case.pk,
                    actor=request.user,
                    subject=form.cleaned_data["subject"],
                    body=form.cleaned_data["body"],
                    template_id=form.cleaned_data["template"],
                    handling_minutes=form.cleaned_data["handling_minutes"],
                    opened=form.cleaned_data["opened"],
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                url = reverse("cases:detail", args=[case.pk])
                if request.htmx:
                    return HttpResponse(status=204, headers={"HX-Redirect": url})
                return redirect(url)
        status = 400
    else:
        form = _prefilled(case, request.user, request.GET.get("template"), request.GET.get("opened"))
    return render(
        request,
        "cases/_messages_panel.html",
        {
            "case": case,
            "conversation": case_messages(case),
            "form": form,
            "can_send": can_send,
            "to_email": customer_email(case),
        },
        status=status,
    )
