"""What the audit log learns from signals: logins, and changes to who may do what.

Only recording happens here. Workflow steps and exports are recorded by explicit calls in
the services that make them; these events have no service of ours to call from (Django's
login view, the user and group admin, the shell).
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import AuditEvent
from .services import record

Action = AuditEvent.Action
User = get_user_model()
ACCOUNT_FLAGS = ("is_active", "is_staff", "is_superuser")
USERNAME_LENGTH = User._meta.get_field(User.USERNAME_FIELD).max_length


def device_kind(device) -> str:
    """How a login was verified, in words: no device, the app, or a recovery code."""
    if device is None:
        return "none"
    return "recovery code" if device._meta.model_name == "staticdevice" else "authenticator app"


@receiver(user_logged_in, dispatch_uid="audit-login")
def login_succeeded(sender, request, user, **kwargs):
    record(
        action=Action.LOGIN,
        actor=user,
        request=request,
        details={"two_factor": device_kind(getattr(user, "otp_device", None))},
    )


@receiver(user_login_failed, dispatch_uid="audit-login-failed")
def login_failed(sender, credentials, request=None, reason="", **kwargs):
    # Django has already masked the password in ``credentials``; only the name is kept.
    username = str(credentials.get(User.USERNAME_FIELD) or "")[:USERNAME_LENGTH]
    record(
        action=Action.LOGIN_FAILED,
        actor_name=username,
        request=request,
        details={
            "username": username,
            # The staff login form says when it was the code; otherwise Django's own check.
            "reason": reason or "wrong username or password",
            # Set by django-axes, whose receiver runs first (it is installed before audit).
            "locked_out": bool(getattr(request, "axes_locked_out", False)),
        },
    )


@receiver(post_delete, sender=TOTPDevice, dispatch_uid="audit-totp-removed")
def authenticator_removed(sender, instance, **kwargs):
    if instance.confirmed:
        record(
            action=Action.TWO_FACTOR_REMOVED,
            obj=instance.user,
            details={"device": instance.name},
        )


@receiver(pre_save, sender=User, dispatch_uid="audit-account-before")
def remember_account_flags(sender, instance, raw=False, update_fields=None, **kwargs):
    """Note the flags as stored, so that post_save can tell what changed (one query)."""
    instance._audit_flags = None
    if raw or instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and not set(update_fields) & set(ACCOUNT_FLAGS):
        return  # a login stamping last_login, for example
    instance._audit_flags = (
        User.objects.filter(pk=instance.pk).values(*ACCOUNT_FLAGS).first() or None
    )


@receiver(post_save, sender=User, dispatch_uid="audit-account-after")
def account_flags_changed(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    before = getattr(instance, "_audit_flags", None)
    if created:
        before = {"is_active": False, "is_staff": False, "is_superuser": False}
    if before is None:
        return
    changes = {
        flag: getattr(instance, flag)
        for flag in ACCOUNT_FLAGS
        if bool(before[flag]) != bool(getattr(instance, flag))
    }
    if created and not (instance.is_staff or instance.is_superuser):
        return  # a reader-side account with no admin access: nothing to audit
    if changes:
        details = {"created": True, **changes} if created else changes
        record(action=Action.ACCOUNT_CHANGED, obj=instance, details=details)


# Each audited many-to-many relation: its action, the owner's field and the target's field
# on the through table.
RELATIONS = {
    User.groups.through: (Action.GROUPS_CHANGED, "user", "group"),
    User.user_permissions.through: (Action.USER_PERMISSIONS_CHANGED, "user", "permission"),
    Group.permissions.through: (Action.GROUP_PERMISSIONS_CHANGED, "group", "permission"),
}


def _label(obj) -> str:
    if isinstance(obj, Permission):
        return f"{obj.content_type.app_label}.{obj.codename}"
    if isinstance(obj, Group):
        return obj.name
    return obj.get_username()


def _labels(model, pks) -> list[str]:
    objects = model.objects.filter(pk__in=pks)
    if model is Permission:
        objects = objects.select_related("content_type")
    return sorted(_label(obj) for obj in objects)


def relation_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    """Record who gained or lost a group or a permission: one event per user or group."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    audit_action, owner_field, target_field = RELATIONS[sender]
    if action == "pre_clear":
        # Clearing names nothing: read what is about to go.
        mine, theirs = (target_field, owner_field) if reverse else (owner_field, target_field)
        pk_set = set(sender.objects.filter(**{mine: instance.pk}).values_list(theirs, flat=True))
    if not pk_set:
        return
    change = "added" if action == "post_add" else "removed"
    if reverse:
        # group.user_set.add(...) and the like: the owners are the ones named.
        owners = model.objects.filter(pk__in=pk_set)
        targets = [_label(instance)]
    else:
        owners = [instance]
        targets = _labels(model, pk_set)
    for owner in owners:
        record(action=audit_action, obj=owner, details={change: targets})


for through in RELATIONS:
    m2m_changed.connect(relation_changed, sender=through, dispatch_uid=f"audit-{through.__name__}")
