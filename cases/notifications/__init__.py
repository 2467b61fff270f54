"""Notifications: who is told of which case event (`rules`), delivering
them once per (event, person) in the app and by email as each person
chooses (`delivery.send_event_notifications`, run after commit by
`cases.tasks.notify_event`), reading and marking them (`selectors`,
`services`), the bell, the list and the preferences page (`views`) and the
API (`api`). Models (`Notification`, `NotificationPreference`) live in
`cases.models`."""

from cases.notifications.delivery import send_event_notifications

__all__ = ["send_event_notifications"]
