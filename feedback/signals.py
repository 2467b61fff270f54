"""Signals that let higher apps react to feedback without feedback knowing them."""

from django.dispatch import Signal

# Sent inside the ingesting transaction with `response_ids`: the responses
# just created. Receivers should queue their work with transaction.on_commit.
responses_ingested = Signal()
