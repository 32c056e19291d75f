"""The admin's CSV exports of ratings: an "Export CSV" page and a changelist action.

``RatingAdmin`` wires them in; the CSV itself comes from ``feedback.export``.
"""

from django.contrib import admin
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from .export import export_filename
from .export_audit import audited_export, export_filters
from .forms import ExportForm

EXPORT_PERMISSION = "feedback.export_rating"


def export_view(model_admin, request):
    """The export form (GET, or POST with errors: 200) or the CSV it asks for (valid POST)."""
    if not request.user.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied
    form = ExportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["kind"]
        chunks = audited_export(
            kind=kind,
            filters=export_filters(form.cleaned_data),
            options=form.cleaned_data["options"],
            bom=form.cleaned_data["bom"],
            actor=request.user,
            request=request,
            via="admin export page",
        )
        return csv_response(chunks, kind=kind)
    adminform = helpers.AdminForm(form, list(ExportForm.FIELDSETS), {}, model_admin=model_admin)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Export ratings as CSV",
        "opts": model_admin.opts,
        "form": form,
        "adminform": adminform,
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, "admin/feedback/rating/export.html", context)


@admin.action(description="Export selected ratings as CSV", permissions=("export",))
def export_selected_ratings(modeladmin, request, queryset):
    """The selected ratings, every column, as a CSV download."""
    if not request.user.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied
    # The queryset goes in as a subquery: "select all" over a million rows costs no memory.
    chunks = audited_export(
        kind="ratings",
        # The ratings list's own filters, as its address carries them.
        filters={"selected": True, "list_filters": request.GET.urlencode()},
        rating_ids=queryset,
        actor=request.user,
        request=request,
        via="admin action",
    )
    return csv_response(chunks, kind="ratings")


def csv_response(chunks, *, kind: str) -> StreamingHttpResponse:
    """Stream ``chunks`` as a dated CSV attachment that no cache keeps."""
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export_filename(kind)}"'
    add_never_cache_headers(response)
    return response
