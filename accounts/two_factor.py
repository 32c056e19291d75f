"""Two-factor authentication: who needs a second factor, and setting one up.

It is TOTP (an authenticator app) from django-otp, with one-use recovery codes (django-otp's
static tokens) for a lost phone. The admin site (``accounts.admin_site``) asks
``two_factor_state`` on every admin request.
"""

import time
from base64 import b32encode
from binascii import unhexlify
from enum import StrEnum

import django_otp
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from audit import services as audit
from audit.models import AuditEvent

# Whoever holds one of these may put text in front of readers: a stolen password must not
# be enough for that.
EDITOR_PERMISSIONS = ("explainers.publish_explainer", "explainers.signoff_explainer")
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_CODES_NAME = "Recovery codes"


class TwoFactor(StrEnum):
    VERIFIED = "verified"  # logged in with a code
    NOT_NEEDED = "not needed"  # no authenticator, and not required to have one
    ENROL = "enrol"  # required to have one, has none: may only set it up
    VERIFY = "verify"  # has one, but this session never gave a code: log in again


def has_authenticator(user: AbstractBaseUser) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def two_factor_required(user: AbstractBaseUser) -> bool:
    """Required (when NEWSROOM_REQUIRE_2FA is on) of superusers and of editors."""
    if not (settings.REQUIRE_TWO_FACTOR and user.is_active and user.is_staff):
        return False
    return user.is_superuser or any(user.has_perm(perm) for perm in EDITOR_PERMISSIONS)


def two_factor_state(request: HttpRequest) -> TwoFactor:
    """Where this session stands; worked out once per request (the admin asks often)."""
    state = getattr(request, "_two_factor_state", None)
    if state is None:
        user = request.user
        if getattr(user, "is_verified", lambda: False)():
            state = TwoFactor.VERIFIED
        elif not user.is_authenticated:
            state = TwoFactor.NOT_NEEDED
        elif has_authenticator(user):
            state = TwoFactor.VERIFY
        elif two_factor_required(user):
            state = TwoFactor.ENROL
        else:
            state = TwoFactor.NOT_NEEDED
        request._two_factor_state = state
    return state


def new_authenticator_key() -> str:
    """A fresh TOTP secret, hex-encoded as django-otp stores it."""
    return random_hex(20)


def authenticator_uri(user: AbstractBaseUser, key: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return TOTPDevice(user=user, key=key).config_url


def authenticator_secret(key: str) -> str:
    """The secret as people type it into an app: base32, in groups of four."""
    text = b32encode(unhexlify(key)).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def _normalised_code(code: str) -> str:
    return "".join(code.split()).replace("-", "")


def replace_recovery_codes(*, user: AbstractBaseUser) -> list[str]:
    """New one-use recovery codes; the old ones stop working. Shown once, by the caller."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=RECOVERY_CODES_NAME)
        codes: set[str] = set()
        while len(codes) < settings.RECOVERY_CODE_COUNT:
            codes.add(StaticToken.random_token())
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
        audit.record(
            action=AuditEvent.Action.RECOVERY_CODES,
            actor=user,
            obj=user,
            details={"count": len(codes)},
        )
    return sorted(codes)


def enrol_authenticator(
    *, request: HttpRequest, user: AbstractBaseUser, key: str, code: str
) -> list[str]:
    """Turn on two-factor authentication with the app that shows ``code`` for ``key``.

    Replaces any earlier app and recovery codes, marks this session as verified, and
    returns the new recovery codes.
    """
    code = _normalised_code(code)
    totp = TOTP(unhexlify(key))
    totp.time = time.time()
    if not (code.isdigit() and len(code) == 6 and totp.verify(int(code), tolerance=1)):
        raise ValidationError(
            "That code does not match. Check that the app shows “%(issuer)s” and enter the "
            "6 digits it shows now (they change every 30 seconds).",
            code="invalid_code",
            params={"issuer": settings.OTP_TOTP_ISSUER},
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        # last_t: the code just typed cannot be used again to log in.
        device = TOTPDevice.objects.create(
            user=user, name=AUTHENTICATOR_NAME, key=key, confirmed=True, last_t=totp.t()
        )
        audit.record(action=AuditEvent.Action.TWO_FACTOR_ENABLED, actor=user, obj=user)
        codes = replace_recovery_codes(user=user)
    # A new level of trust for this session: a new session key, as at login.
    request.session.cycle_key()
    django_otp.login(request, device)
    request._two_factor_state = None
    return codes


def recovery_codes_left(user: AbstractBaseUser) -> int:
    return StaticToken.objects.filter(device__user=user).count()
