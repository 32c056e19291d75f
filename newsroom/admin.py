from django.contrib import admin


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """An admin for records nobody edits in place, superusers included (ratings, notices)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
