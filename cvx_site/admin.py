from collections.abc import Callable

from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records that only services write: visible in the admin, never edited there."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ScopedChoicesMixin:
    """For any admin or inline: a foreign key or many-to-many field to a model
    whose admin is scoped offers (and accepts) only the rows that admin shows
    the user, so a form never lists a customer or case out of scope."""

    def get_field_queryset(self, db, db_field, request):
        related = self.admin_site._registry.get(db_field.remote_field.model)
        if isinstance(related, ScopedAdmin):
            return related.get_queryset(request).using(db)
        return super().get_field_queryset(db, db_field, request)


class ScopedAdmin(ScopedChoicesMixin):
    """An admin that shows each user only the rows the app's selector gives
    them, the one the pages and the API use: set `visible_to` to it
    (`staticmethod(cases_visible_to)`).

    Every admin path starts from get_queryset: the changelist and its search,
    date drill-down and actions, the change, history and delete pages (a row
    out of scope is "does not exist"), the raw-id popup (a changelist) and
    autocomplete (AutocompleteJsonView asks the related model's admin)."""

    visible_to: Callable[..., QuerySet] | None = None

    def get_queryset(self, request):
        if self.visible_to is None:
            raise ImproperlyConfigured(f"{type(self).__name__} needs visible_to: the model's selector.")
        rows = self.visible_to(request.user)
        if rows.model is not self.model:
            raise ImproperlyConfigured(
                f"{type(self).__name__}.visible_to gives {rows.model.__name__} rows, not {self.model.__name__}."
            )
        ordering = self.get_ordering(request)
        return rows.order_by(*ordering) if ordering else rows
