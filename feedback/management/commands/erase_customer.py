"""Erase one customer's personal data on request (see feedback.privacy)."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from cvx_site.errors import NotFound
from feedback.choices import IdentityKind
from feedback.models import Customer
from feedback.privacy import customer_erase, customer_find

LOOKUPS = {"email": IdentityKind.EMAIL, "phone": IdentityKind.PHONE, "external_id": IdentityKind.EXTERNAL_ID}


class Command(BaseCommand):
    """`manage.py erase_customer ID | --email X | --phone X | --external-id X [--yes]`

    Exit 0 once erased (running it again is harmless); 1 (CommandError) when
    no customer matches or the confirmation is not "yes", nothing changed.
    Prints counts only, never the customer's data.
    """

    help = (
        "Erase a customer's personal data (identities, name, feedback comments and metadata, invitation "
        "emails) while keeping their scores, cases and a verifiable audit trail. Asks for confirmation "
        "unless --yes is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("customer_id", nargs="?", type=int, help="The customer's id.")
        parser.add_argument("--email", help="Find the customer by email address.")
        parser.add_argument("--phone", help="Find the customer by phone number.")
        parser.add_argument("--external-id", dest="external_id", help="Find the customer by their external id.")
        parser.add_argument(
            "--requested-by",
            default="manage.py erase_customer",
            help="Who asked for the erasure, for the log (default: the command's name).",
        )
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, customer_id: int | None, yes: bool, requested_by: str, **options):
        customer_id = self._customer_id(customer_id, options)
        customer = Customer.objects.filter(pk=customer_id).first()
        if customer is None:
            raise CommandError(f"No customer with id {customer_id}.")
        if not yes and not self._confirmed(customer):
            raise CommandError("Not confirmed: nothing was erased.")
        try:
            result = customer_erase(customer_id=customer_id, actor_label=requested_by)
        except NotFound as exc:  # deleted between the look-up and now
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"Erased customer {result.customer_id}: {result.identities_deleted} identities deleted, "
            f"{result.responses_blanked} responses blanked, {result.invitations_blanked} invitation emails "
            f"blanked, {result.invitations_closed} open invitations closed."
        )

    def _customer_id(self, customer_id: int | None, options: dict) -> int:
        given = {name: options[name] for name in LOOKUPS if options.get(name)}
        if (customer_id is not None) + len(given) != 1:
            raise CommandError("Name the customer one way: an id, --email, --phone or --external-id.")
        if customer_id is not None:
            return customer_id
        [(name, value)] = given.items()
        found = customer_find(kind=LOOKUPS[name], value=value)
        if found is None:
            raise CommandError(f"No customer has that {name.replace('_', ' ')}.")
        return found

    def _confirmed(self, customer: Customer) -> bool:
        self.stdout.write(
            f"Customer {customer.pk}: {customer.identities.count()} identities, {customer.responses.count()} "
            f"responses, {customer.invitations.count()} invitations. Their personal data will be erased; "
            "this cannot be undone. Type 'yes' to continue: ",
            ending="",
        )
        self.stdout.flush()
        return sys.stdin.readline().strip().lower() == "yes"
