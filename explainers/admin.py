from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.translation import ngettext

from feedback.stats import NullsLast, format_share, with_feedback_stats

from . import importer
from .forms import ExplainerAdminForm, ImportTextForm
from .models import SECTION_FIELDS, Explainer, Source, Topic
from .services import explainer_publish, explainer_unpublish
from .views import explainer_page_context


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


class SourceInline(admin.TabularInline):
    model = Source
    extra = 1
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fields = ("label", "url", "position")
    verbose_name = "source"
    verbose_name_plural = "Sources: the reporting this explainer rests on"


@admin.register(Explainer)
class ExplainerAdmin(admin.ModelAdmin):
    form = ExplainerAdminForm
    change_list_template = "admin/explainers/explainer/change_list.html"
    list_display = (
        "headline",
        "status",
        "topic",
        "ai_generated",
        "published_at",
        "updated_at",
        "feedback_votes",
        "feedback_share",
        "feedback_lower_bound",
    )
    list_display_links = ("headline",)
    list_filter = ("status", "topic", "ai_generated")
    list_select_related = ("topic",)
    search_fields = ("headline", "whats_happening", "why_its_important", "whats_next")
    date_hierarchy = "published_at"
    ordering = ("-updated_at",)
    prepopulated_fields = {"slug": ("headline",)}
    autocomplete_fields = ("topic",)
    readonly_fields = ("created_at", "created_by", "updated_at", "updated_by")
    inlines = (SourceInline,)
    actions = ("publish", "unpublish")
    save_on_top = True
    # Mirrors the reader's page: headline, the three sections, the label, then the extras.
    fieldsets = (
        (None, {"fields": ("headline", "slug")}),
        (
            "The story, in reading order",
            {
                "fields": SECTION_FIELDS,
                "description": "Readers see these three sections under their headings, "
                "in this order. Plain text: no HTML or Markdown.",
            },
        ),
        ("Disclosure", {"fields": ("ai_generated",)}),
        ("Topic and image", {"fields": ("topic", "image", "image_alt", "image_credit")}),
        (
            "Publishing",
            {
                "fields": (
                    "status",
                    "published_at",
                    ("created_at", "created_by"),
                    ("updated_at", "updated_by"),
                )
            },
        ),
    )

    def get_queryset(self, request):
        # Vote counts and shares come annotated, so the list can sort by them in one query.
        return with_feedback_stats(super().get_queryset(request))

    @admin.display(description="votes", ordering="votes")
    def feedback_votes(self, obj):
        return obj.votes

    @admin.display(description="useful", ordering=NullsLast("useful_share"))
    def feedback_share(self, obj):
        return format_share(obj.useful_share, obj.votes)

    @admin.display(description="lower bound", ordering=NullsLast("wilson_lower_bound"))
    def feedback_lower_bound(self, obj):
        """The Wilson score lower bound (95%): the share of useful votes one can rely on."""
        return format_share(obj.wilson_lower_bound, obj.votes)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Publish selected explainers", permissions=("change",))
    def publish(self, request, queryset):
        count = explainer_publish(explainers=queryset, user=request.user)
        self.message_user(
            request,
            ngettext("Published %d explainer.", "Published %d explainers.", count) % count,
            messages.SUCCESS,
        )

    @admin.action(description="Unpublish selected explainers", permissions=("change",))
    def unpublish(self, request, queryset):
        count = explainer_unpublish(explainers=queryset, user=request.user)
        self.message_user(
            request,
            ngettext("Unpublished %d explainer.", "Unpublished %d explainers.", count) % count,
            messages.SUCCESS,
        )

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name=f"{info[0]}_{info[1]}_import",
            ),
            path(
                "<path:object_id>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name=f"{info[0]}_{info[1]}_preview",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request, object_id):
        """Show any explainer, draft or not, in the reader's design; staff only, never cached."""
        explainer = get_object_or_404(
            Explainer.objects.select_related("topic").prefetch_related("sources"), pk=object_id
        )
        if not self.has_view_permission(request, explainer):
            raise PermissionDenied
        context = {**explainer_page_context(request, explainer), "preview": True}
        response = TemplateResponse(request, "explainers/explainer_detail.html", context)
        response["X-Robots-Tag"] = "noindex, nofollow"
        add_never_cache_headers(response)
        return response

    def import_view(self, request):
        """Turn pasted plain text into a draft, with the importer's errors next to the field."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportTextForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            (outcome,) = importer.import_parsed(
                documents=[form.cleaned_data["text"]], user=request.user
            )
            explainer = outcome.explainer
            if outcome.action == "unchanged":
                self.message_user(
                    request,
                    format_html(
                        "This text was imported before as “{}”; nothing was changed.",
                        explainer.headline,
                    ),
                    messages.WARNING,
                )
            else:
                self.message_user(
                    request,
                    format_html(
                        "Imported “{}” as a draft. Check the headline and sections, then publish.",
                        explainer.headline,
                    ),
                    messages.SUCCESS,
                )
            return redirect(
                reverse(
                    f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                    args=[explainer.pk],
                    current_app=self.admin_site.name,
                )
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Import an explainer from text",
            "opts": self.opts,
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/explainers/explainer/import.html", context)
