from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an audit event."""


class AuditEventQuerySet(models.QuerySet):
    """Bulk updates and deletes are refused like single ones: the log is append-only."""

    def update(self, **kwargs):
        raise AppendOnlyError("Audit events are never changed.")

    def delete(self):
        raise AppendOnlyError("Audit events are never deleted.")


class AuditEvent(models.Model):
    """One thing that happened to an account, a permission, a publication or the ratings data.

    Written once by ``audit.services.record`` and never changed: nobody, superusers included,
    may edit or delete one in the admin, and the model refuses it too.
    """

    class Action(models.TextChoices):
        LOGIN = "login", "Logged in"
        LOGIN_FAILED = "login_failed", "Login failed"
        TWO_FACTOR_ENABLED = "two_factor_enabled", "Authenticator app set up"
        TWO_FACTOR_REMOVED = "two_factor_removed", "Authenticator app removed"
        RECOVERY_CODES = "recovery_codes", "Recovery codes generated"
        ACCOUNT_CHANGED = "account_changed", "Staff, superuser or active status changed"
        GROUPS_CHANGED = "groups_changed", "Group membership changed"
        USER_PERMISSIONS_CHANGED = "user_permissions_changed", "User permissions changed"
        GROUP_PERMISSIONS_CHANGED = "group_permissions_changed", "Group permissions changed"
        SIGNED_OFF = "signed_off", "AI text signed off"
        PUBLISHED = "published", "Published"
        SCHEDULED = "scheduled", "Scheduled"
        UNPUBLISHED = "unpublished", "Unpublished"
        ARCHIVED = "archived", "Archived"
        NOTICE_ADDED = "notice_added", "Notice added"
        NOTICE_HIDDEN = "notice_hidden", "Notice hidden"
        PREVIEW_LINK_CREATED = "preview_link_created", "Preview link created"
        PREVIEW_LINK_REVOKED = "preview_link_revoked", "Preview link revoked"
        CSV_EXPORTED = "csv_exported", "Ratings exported as CSV"

    created_at = models.DateTimeField("when", default=timezone.now, db_index=True, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="user",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who did it; empty for a command run on the server or a failed login.",
    )
    actor_name = models.CharField(
        "who",
        max_length=150,
        blank=True,
        help_text="The username at the time (kept if the account is deleted), the name typed "
        "in a failed login, or the system account that ran a command.",
    )
    action = models.CharField("what", max_length=40, choices=Action.choices, db_index=True)
    object_type = models.CharField("object type", max_length=100, blank=True)
    object_id = models.CharField("object id", max_length=64, blank=True)
    object_repr = models.CharField("object", max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(
        "address", null=True, blank=True, help_text="The client's address, for web requests."
    )
    details = models.JSONField("details", default=dict, blank=True, encoder=DjangoJSONEncoder)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = "audit event"
        verbose_name_plural = "audit log"
        # Nothing to grant: only superusers see the log, and nobody changes it.
        default_permissions = ()

    def __str__(self):
        return f"{self.get_action_display()} by {self.actor_name or 'the system'}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Audit events are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events are never deleted.")
