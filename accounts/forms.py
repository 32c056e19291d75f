"""The staff login form (password, then the authenticator code) and the set-up form."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django_otp.forms import OTPAuthenticationFormMixin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import two_factor

WRONG_CODE = (
    "That code is not right. Enter the 6 digits your authenticator app shows now, or a "
    "recovery code you have not used yet."
)


def normalise_code(value: str) -> str:
    """Codes as people type them: spaces and hyphens dropped, recovery codes in any case."""
    return "".join(value.split()).replace("-", "").lower()


class StaffLoginForm(OTPAuthenticationFormMixin, AdminAuthenticationForm):
    """The admin's login: username and password, plus a code for accounts that have an app.

    One page, one submit. The code is either the app's 6 digits or a recovery code; which
    device checks it follows from its shape, so that a code is never tried against (and
    never counts as a failure on) the wrong device. django-otp throttles wrong codes;
    django-axes counts wrong passwords.
    """

    otp_token = forms.CharField(
        label="Authentication code",
        required=False,
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"}
        ),
        help_text="From your authenticator app, or one of your recovery codes. Leave it empty "
        "if you have not set up two-factor authentication.",
    )
    otp_error_messages = {
        **OTPAuthenticationFormMixin.otp_error_messages,
        "token_required": "This account uses two-factor authentication: enter the code your "
        "authenticator app shows (or a recovery code) with your password.",
        "invalid_token": WRONG_CODE,
        "device_required": WRONG_CODE,
        "n_failed_attempts": "Too many wrong codes (%(failure_count)d): wait a minute, then "
        "try the code your app shows at that time.",
    }

    def clean_username(self):
        # Django's login form shows the limit but does not check it; a longer name would
        # reach django-axes' 255-character column (an error on PostgreSQL) for nothing.
        username = self.cleaned_data["username"]
        limit = self.fields["username"].max_length
        if limit and len(username) > limit:
            raise forms.ValidationError(
                "A username has at most %(limit)d characters.",
                code="max_length",
                params={"limit": limit},
            )
        return username

    def clean_otp_token(self):
        return normalise_code(self.cleaned_data["otp_token"])

    def clean(self):
        cleaned = super().clean()  # the password (django-axes may refuse it first)
        user = self.get_user()
        if user is not None and two_factor.has_authenticator(user):
            try:
                self.clean_otp(user)
            except forms.ValidationError as error:
                if error.code != "token_required":
                    self._code_failed(user)
                raise
        return cleaned

    def _code_failed(self, user):
        """A wrong code is a failed login: django-axes counts it (so guessing codes from one
        address ends in the same lockout as guessing passwords) and the audit log records it.
        """
        user_login_failed.send(
            sender=__name__,
            credentials={user.USERNAME_FIELD: user.get_username()},
            request=self.request,
            reason="wrong authentication code",
        )

    def _chosen_device(self, user):
        """The app for 6 digits, the recovery codes otherwise; locked while it checks.

        Recovery codes have 8 characters, so one made only of digits still goes to them.
        """
        token = self.cleaned_data.get("otp_token") or ""
        model = TOTPDevice if token.isdigit() and len(token) == 6 else StaticDevice
        return model.objects.select_for_update().filter(user=user, confirmed=True).first()

    def _update_form(self, user):
        """django-otp would fill the password back into the page; this form never does."""


class AuthenticatorSetupForm(forms.Form):
    """The code the new app shows, which proves it holds the secret."""

    code = forms.CharField(
        label="Code from the app",
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text="The 6 digits the app shows now; they change every 30 seconds.",
    )

    def clean_code(self):
        code = normalise_code(self.cleaned_data["code"])
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError("Enter the 6 digits the app shows.", code="format")
        return code
