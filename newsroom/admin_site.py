"""The admin site: Django's, with two-factor authentication for staff.

- The login form asks for an authenticator code when the account has an app.
- A session counts as the admin's only if it gave that code, or if its user has no app and
  is not required to have one (``accounts.two_factor_state``).
- Someone required to use two-factor authentication who has not set it up is sent to set it
  up, and may do nothing else in the admin (but log out) until they have.
"""

from functools import update_wrapper

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from . import account_views, accounts
from .account_forms import StaffLoginForm

TwoFactor = accounts.TwoFactor


def must_enrol(request) -> bool:
    user = request.user
    return (
        user.is_active and user.is_staff and accounts.two_factor_state(request) == TwoFactor.ENROL
    )


class NewsroomAdminSite(admin.AdminSite):
    login_form = StaffLoginForm
    login_template = "admin/staff_login.html"

    def has_permission(self, request):
        return super().has_permission(request) and accounts.two_factor_state(request) in (
            TwoFactor.VERIFIED,
            TwoFactor.NOT_NEEDED,
        )

    def admin_view(self, view, cacheable=False):
        if view == self.logout:
            # Anyone may log out, enrolled or not; the view keeps its own POST-only, CSRF and
            # never-cache protection. (Django's wrapper would send them to the index instead.)
            return view
        protected = super().admin_view(view, cacheable)

        def inner(request, *args, **kwargs):
            if must_enrol(request):
                return redirect("admin:two_factor")
            return protected(request, *args, **kwargs)

        return update_wrapper(inner, protected)

    def login(self, request, extra_context=None):
        if request.method == "GET" and must_enrol(request):
            return redirect("admin:two_factor")
        return super().login(request, extra_context)

    def account_view(self, view):
        """A page any logged-in staff member may open, set up for two-factor or not."""

        def inner(request, *args, **kwargs):
            if not (request.user.is_active and request.user.is_staff):
                return redirect_to_login(
                    request.get_full_path(), reverse("admin:login", current_app=self.name)
                )
            return view(self, request, *args, **kwargs)

        return csrf_protect(never_cache(update_wrapper(inner, view)))

    def get_urls(self):
        return [
            path(
                "two-factor/",
                self.account_view(account_views.two_factor_view),
                name="two_factor",
            ),
            path(
                "two-factor/recovery-codes/",
                self.account_view(account_views.recovery_codes_view),
                name="recovery_codes",
            ),
            *super().get_urls(),
        ]
