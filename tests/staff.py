"""Logging staff into the admin through its real login form, with or without a code."""

import time

from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "correct horse battery staple"  # what UserFactory gives every user


def log_in(client: Client, username: str, password: str = PASSWORD, code: str = "", **extra):
    """Post the admin login form, as a browser at ``extra``'s REMOTE_ADDR would."""
    data = {"username": username, "password": password, "otp_token": code, "next": "/admin/"}
    return client.post(reverse("admin:login"), data, **extra)


def logged_in(response) -> bool:
    """The login form redirected to the admin: the credentials were accepted."""
    return response.status_code == 302 and response["Location"] == "/admin/"


def authenticator(user, **fields) -> TOTPDevice:
    """A confirmed authenticator app for ``user``, as enrolment would leave it."""
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True, **fields)


def recovery_codes(user, *codes: str) -> StaticDevice:
    device = StaticDevice.objects.create(user=user, name="Recovery codes")
    for code in codes:
        device.token_set.create(token=code)
    return device


def code_for(device: TOTPDevice, *, at: float | None = None) -> str:
    """The 6 digits the user's app shows now (or at ``at``), computed as django-otp checks it."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if at is None else at
    return f"{totp.token():06d}"


def code_for_key(key: str) -> str:
    """The code an app shows now for a hex ``key`` being set up."""
    return code_for(TOTPDevice(key=key))
