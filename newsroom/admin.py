from django.contrib import admin


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """An admin for records nobody edits in place, superusers included (ratings, notices)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def person(field: str, description: str):
    """A user as a read-only field or column: the name only.

    Django links a read-only foreign key to the user's admin page, which only administrators
    may open; everyone else would follow it to a 403.
    """

    @admin.display(description=description, ordering=field)
    def show(self, obj):
        return getattr(obj, field) or "-"

    return show
