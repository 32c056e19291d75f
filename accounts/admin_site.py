"""The admin site: Django's, with two-factor authentication for staff.

- The login form asks for an authenticator code when the account has an app.
- A session counts as the admin's only if it gave that code, or if its user has no app and
  is not required to have one (``two_factor.two_factor_state``).
- Someone required to use two-factor authentication who has not set it up is sent to set it
  up, and may do nothing else in the admin (but log out) until they have.
- A page staff may not open answers 403 inside the admin (``permission_denied``), saying what
  their role lacks, with the way back, rather than with the public site's error page.
"""

from functools import update_wrapper

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from . import two_factor, views
from .forms import StaffLoginForm

TwoFactor = two_factor.TwoFactor

# The last part of an admin page's URL name, as what the person tried to do to the model.
DENIED_ACTIONS = {
    "changelist": "see the list of",
    "add": "add",
    "change": "change",
    "delete": "delete",
    "history": "see the history of",
    "export": "export",
    "report": "see the report on",
    "revisions": "see the revisions of",
    "restore": "restore old revisions of",
    "transition": "take this workflow step on",
    "notices": "manage the notices on",
    "preview_links": "share previews of",
    "preview": "preview",
    "import": "import",
}


def must_enrol(request) -> bool:
    user = request.user
    return (
        user.is_active and user.is_staff and two_factor.two_factor_state(request) == TwoFactor.ENROL
    )


class NewsroomAdminSite(admin.AdminSite):
    login_form = StaffLoginForm
    login_template = "admin/staff_login.html"

    def has_permission(self, request):
        return super().has_permission(request) and two_factor.two_factor_state(request) in (
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

    def permission_denied(self, request, exception):
        """The admin's own 403 page: what the person's role lacks, and links back."""
        match = request.resolver_match
        model_admin, action = None, ""
        if match is not None and match.url_name:
            for model, candidate in self._registry.items():
                prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
                if match.url_name.startswith(prefix):
                    model_admin, action = candidate, match.url_name.removeprefix(prefix)
                    break
        lacks, obj, list_url, object_url = "", None, None, None
        if model_admin is not None:
            opts = model_admin.opts
            info = f"admin:{opts.app_label}_{opts.model_name}"
            lacks = f"{DENIED_ACTIONS.get(action, 'open this page of')} {opts.verbose_name_plural}"
            if model_admin.has_view_or_change_permission(request):
                list_url = reverse(f"{info}_changelist", current_app=self.name)
            if match.kwargs.get("object_id"):
                obj = model_admin.get_object(request, unquote(match.kwargs["object_id"]))
            if obj is not None and model_admin.has_view_or_change_permission(request, obj):
                object_url = reverse(f"{info}_change", args=[obj.pk], current_app=self.name)
            else:
                obj = None
        roles = [group.name for group in request.user.groups.all()]
        context = {
            **self.each_context(request),
            "title": "You may not open this page",
            "opts": model_admin.opts if model_admin else None,
            "lacks": lacks,
            "reason": str(exception) if exception and str(exception) else "",
            "roles": roles,
            "original": obj,
            "list_url": list_url,
            "object_url": object_url,
        }
        response = TemplateResponse(request, "admin/403.html", context, status=403)
        response.render()
        add_never_cache_headers(response)
        return response

    def get_urls(self):
        return [
            path(
                "two-factor/",
                self.account_view(views.two_factor_view),
                name="two_factor",
            ),
            path(
                "two-factor/recovery-codes/",
                self.account_view(views.recovery_codes_view),
                name="recovery_codes",
            ),
            *super().get_urls(),
        ]
