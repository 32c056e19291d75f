"""The audit log in the admin: superusers read it; nobody adds, changes or deletes."""

from axes.models import AccessFailureLog, AccessLog
from django.contrib import admin
from django.utils.html import format_html_join

from newsroom.admin import ReadOnlyModelAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    date_hierarchy = "created_at"
    list_display = ("created_at", "actor_name", "action", "object_repr", "ip_address")
    list_filter = ("action", "created_at")
    search_fields = ("actor_name", "object_repr", "object_id")
    readonly_fields = (
        "created_at",
        "actor_name",
        "actor",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "ip_address",
        "details_list",
    )
    fields = readonly_fields
    show_full_result_count = False  # a count over millions of rows on every page view

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    @admin.display(description="details")
    def details_list(self, obj):
        return format_html_join(
            "\n", "<div><strong>{}</strong>: {}</div>", sorted(obj.details.items())
        )


# Logins are recorded here; django-axes keeps only its failure counters (Access attempts,
# where an administrator can unlock someone), so its two log lists would stay empty.
admin.site.unregister([AccessLog, AccessFailureLog])
