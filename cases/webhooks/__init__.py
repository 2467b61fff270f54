"""Webhooks and chat alerts (issue 19): what CVX sends out to other systems.

- `models`: subscriptions (`Webhook`), per-team chat channels (`ChatChannel`),
  and one delivery machinery for both (`Delivery`, `DeliveryAttempt`).
- `guard`: which target addresses may be called (no SSRF), checked when a
  target is saved and again after DNS resolution when it is called.
- `payloads`: the JSON envelope of a webhook and the Slack / Teams shapes.
- `outbox`: the two hook points (a recorded case event, ingested feedback)
  that turn events into delivery rows in the recording transaction.
- `services`: claiming, sending, retrying and redelivering a delivery.
- `transport`: one bounded HTTP POST to a pinned address, no redirects.
"""
