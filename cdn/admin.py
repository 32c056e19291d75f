from django.contrib import admin

from .models import PurgeRequest


@admin.register(PurgeRequest)
class PurgeRequestAdmin(admin.ModelAdmin):
    """Read-only: what waits to be purged, and why a purge keeps failing."""

    list_display = ("__str__", "created_at", "attempts", "next_attempt_at", "last_error")
    readonly_fields = ("keys", "created_at", "attempts", "next_attempt_at", "last_error")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
