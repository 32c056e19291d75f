from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from newsroom.admin import ReadOnlyModelAdmin

from . import diff, importer, services
from .forms import (
    ExplainerAdminForm,
    HideNoticeForm,
    ImportTextForm,
    NoticeForm,
    PreviewLinkForm,
    TransitionForm,
)
from .models import SECTION_FIELDS, Explainer, Notice, PreviewLink, Source, Topic
from .views import render_preview

Status = Explainer.Status


def short_time(value) -> str:
    """A compact local time for list columns ("26 Nov 2026 14:05"), or a dash."""
    return timezone.localtime(value).strftime("%d %b %Y %H:%M") if value else "-"


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


@admin.register(Notice)
class NoticeAdmin(ReadOnlyModelAdmin):
    """Notices are append-only: listed here, added and hidden from the explainer's page."""

    list_display = ("explainer", "kind", "created_at", "created_by", "hidden_at")
    list_filter = ("kind", ("hidden_at", admin.EmptyFieldListFilter))
    list_select_related = ("explainer", "created_by")
    search_fields = ("text", "explainer__headline")
    readonly_fields = [field.name for field in Notice._meta.fields]


@admin.register(Explainer)
class ExplainerAdmin(admin.ModelAdmin):
    form = ExplainerAdminForm
    change_list_template = "admin/explainers/explainer/change_list.html"
    list_display = (
        "headline",
        "state",
        "topic",
        "ai_generated",
        "published",
        "updated",
    )
    list_display_links = ("headline",)
    list_filter = ("status", "topic", "ai_generated")
    list_select_related = ("topic", "live_revision")
    search_fields = ("headline", "whats_happening", "why_its_important", "whats_next")
    date_hierarchy = "published_at"
    ordering = ("-updated_at",)
    prepopulated_fields = {"slug": ("headline",)}
    autocomplete_fields = ("topic",)
    readonly_fields = (
        "state",
        "published_at",
        "expires_at",
        "sign_off",
        ("created_at"),
        "created_by",
        "updated_at",
        "updated_by",
    )
    inlines = (SourceInline,)
    actions = ("submit_selected", "publish_selected", "unpublish_selected", "archive_selected")
    save_on_top = True
    # Mirrors the reader's page: headline, the three sections, the label, then the extras.
    fieldsets = (
        (None, {"fields": ("headline", "slug", "loaded_at")}),
        (
            "The story, in reading order",
            {
                "fields": SECTION_FIELDS,
                "description": "Readers see these three sections under their headings, "
                "in this order. Plain text: no HTML or Markdown.",
            },
        ),
        ("Disclosure", {"fields": ("ai_generated", "sign_off")}),
        ("Topic and image", {"fields": ("topic", "image", "image_alt", "image_credit")}),
        (
            "Publishing",
            {
                "fields": (
                    "state",
                    ("published_at", "expires_at"),
                    ("created_at", "created_by"),
                    ("updated_at", "updated_by"),
                ),
                "description": "Publishing happens through the Workflow panel above, so every "
                "step is checked and recorded.",
            },
        ),
    )

    @admin.display(description="status", ordering="status")
    def state(self, obj):
        if obj.is_scheduled:
            return format_html(
                "Scheduled for {}", timezone.localtime(obj.published_at).strftime("%d %b %Y %H:%M")
            )
        label = obj.get_status_display()
        if obj.status == Status.PUBLISHED and obj.has_pending_changes:
            return f"{label}, changes waiting for publication"
        # Per row, without a query: an expiry time that has passed.
        if obj.status == Status.PUBLISHED and obj.expires_at and obj.expires_at <= timezone.now():
            return "Expired"
        return label

    @admin.display(description="published", ordering="published_at")
    def published(self, obj):
        return short_time(obj.published_at)

    @admin.display(description="updated", ordering="updated_at")
    def updated(self, obj):
        return short_time(obj.updated_at)

    @admin.display(description="editor's sign-off")
    def sign_off(self, obj):
        if not obj.ai_generated:
            return "Not needed: written by people."
        if obj.is_signed_off:
            return format_html(
                "Signed off by {} on {} (version {}).",
                obj.reviewed_by,
                timezone.localtime(obj.reviewed_at).strftime("%d %b %Y %H:%M"),
                obj.reviewed_version,
            )
        if obj.reviewed_version:
            return "Void: the text changed after the last sign-off. An editor must sign off again."
        return "Needed before publishing: an editor must sign off the AI-drafted text."

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            # Read-only viewers (analysts, archived explainers) have no form to guard.
            return [
                (name, {**options, "fields": [f for f in options["fields"] if f != "loaded_at"]})
                for name, options in fieldsets
            ]
        return fieldsets

    def has_change_permission(self, request, obj=None):
        # The archive is the record: archived explainers are read, not edited.
        if obj is not None and obj.status == Status.ARCHIVED:
            return False
        return super().has_change_permission(request, obj)

    def has_publish_permission(self, request):
        return request.user.has_perm("explainers.publish_explainer")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
        if change and "slug" in form.changed_data:
            services.record_slug_change(explainer=obj, old_slug=form.initial["slug"])

    def _bulk(self, request, queryset, transition, verb):
        try:
            done, problems = services.bulk(transition, explainers=queryset, user=request.user)
        except PermissionDenied as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        if done:
            self.message_user(request, f"{verb} {done} explainer(s).", messages.SUCCESS)
        for problem in problems:
            self.message_user(request, problem, messages.WARNING)

    @admin.action(description="Submit selected for review", permissions=("change",))
    def submit_selected(self, request, queryset):
        self._bulk(request, queryset, services.explainer_submit, "Submitted")

    @admin.action(description="Publish selected explainers", permissions=("publish",))
    def publish_selected(self, request, queryset):
        self._bulk(request, queryset, services.explainer_publish, "Published")

    @admin.action(description="Unpublish selected explainers", permissions=("publish",))
    def unpublish_selected(self, request, queryset):
        self._bulk(request, queryset, services.explainer_unpublish, "Unpublished")

    @admin.action(description="Archive selected explainers", permissions=("publish",))
    def archive_selected(self, request, queryset):
        self._bulk(request, queryset, services.explainer_archive, "Archived")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        explainer = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if explainer is not None:
            extra_context.update(self.workflow_context(request, explainer))
        return super().change_view(request, object_id, form_url, extra_context)

    def workflow_context(self, request, explainer):
        user = request.user
        can_change = super().has_change_permission(request, explainer)
        can_publish = user.has_perm("explainers.publish_explainer")
        status = explainer.status
        steps = []
        if can_change and status == Status.DRAFT:
            steps.append(("submit", "Submit for review"))
        if user.has_perm("explainers.review_explainer") and status == Status.IN_REVIEW:
            steps.append(("send_back", "Send back to draft"))
        if (
            user.has_perm("explainers.signoff_explainer")
            and explainer.ai_generated
            and not explainer.is_signed_off
            and status != Status.ARCHIVED
        ):
            steps.append(("sign_off", "Sign off the AI-drafted text"))
        if (
            can_publish
            and status != Status.ARCHIVED
            and (
                status != Status.PUBLISHED
                or explainer.has_pending_changes
                or explainer.is_scheduled
            )
        ):
            steps.append(
                ("publish", "Publish changes" if explainer.live_revision_id else "Publish")
            )
        if can_publish and status == Status.PUBLISHED:
            steps.append(("unpublish", "Unpublish"))
        if can_publish and status != Status.ARCHIVED:
            steps.append(("archive", "Archive"))
        return {
            "workflow_steps": steps,
            "workflow_form": TransitionForm(),
            "workflow_events": explainer.events.select_related("user")[:50],
            "offers_publish": any(step == "publish" for step, _ in steps),
        }

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name=f"{info}_import"),
            path("<path:object_id>/preview/", view(self.preview_view), name=f"{info}_preview"),
            path(
                "<path:object_id>/transition/",
                view(self.transition_view),
                name=f"{info}_transition",
            ),
            path(
                "<path:object_id>/revisions/", view(self.revisions_view), name=f"{info}_revisions"
            ),
            path(
                "<path:object_id>/revisions/<int:history_id>/restore/",
                view(self.restore_view),
                name=f"{info}_restore",
            ),
            path("<path:object_id>/notices/", view(self.notices_view), name=f"{info}_notices"),
            path(
                "<path:object_id>/preview-links/",
                view(self.preview_links_view),
                name=f"{info}_preview_links",
            ),
            *super().get_urls(),
        ]

    def _explainer(self, request, object_id, *, change=False):
        explainer = get_object_or_404(
            Explainer.objects.select_related("topic", "live_revision"), pk=object_id
        )
        allowed = (
            super().has_change_permission(request, explainer)
            if change
            else self.has_view_permission(request, explainer)
        )
        if not allowed:
            raise PermissionDenied
        return explainer

    def _change_url(self, explainer):
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            args=[explainer.pk],
            current_app=self.admin_site.name,
        )

    def _page(self, request, explainer, template, title, **context):
        return TemplateResponse(
            request,
            f"admin/explainers/explainer/{template}",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.opts,
                "original": explainer,
                "has_view_permission": True,
                **context,
            },
        )

    def preview_view(self, request, object_id):
        """Any explainer, draft or not, in the reader's design; staff only, never cached."""
        explainer = self._explainer(request, object_id)
        return render_preview(request, explainer)

    @transaction.atomic
    def transition_view(self, request, object_id):
        """Run one workflow step; the service decides whether this user may."""
        if request.method != "POST":
            return redirect(self._change_url(self._explainer(request, object_id)))
        explainer = Explainer.objects.select_for_update().get(
            pk=self._explainer(request, object_id).pk
        )
        form = TransitionForm(request.POST)
        if not form.is_valid():
            for field, errors in form.errors.items():
                self.message_user(request, f"{field}: {' '.join(errors)}", messages.ERROR)
            return redirect(self._change_url(explainer))
        try:
            form.run(explainer=explainer, user=request.user)
        except PermissionDenied as error:
            self.message_user(request, str(error) or "Not allowed.", messages.ERROR)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            event = explainer.events.first()
            self.message_user(
                request, f"{event.get_action_display()}: “{explainer}”.", messages.SUCCESS
            )
        return redirect(self._change_url(explainer))

    def revisions_view(self, request, object_id):
        """Every saved revision; pick any two to compare them field by field."""
        explainer = self._explainer(request, object_id)
        revisions = list(explainer.history.select_related("history_user").order_by("-history_date"))
        by_id = {r.history_id: r for r in revisions}
        comparison = None
        try:
            a = by_id.get(int(request.GET.get("a", 0)))
            b = by_id.get(int(request.GET.get("b", 0)))
        except ValueError:
            a = b = None
        if a and b:
            old, new = sorted((a, b), key=lambda r: r.history_date)
            comparison = {"old": old, "new": new, "rows": diff.compare(old, new)}
        elif len(revisions) >= 2 and "a" not in request.GET:
            old, new = revisions[1], revisions[0]
            comparison = {"old": old, "new": new, "rows": diff.compare(old, new)}
        return self._page(
            request,
            explainer,
            "revisions.html",
            f"Revisions of “{explainer}”",
            revisions=revisions,
            comparison=comparison,
            can_restore=super().has_change_permission(request, explainer),
        )

    def restore_view(self, request, object_id, history_id):
        """Bring an old revision's text back as a new draft version (history is kept)."""
        if request.method != "POST":
            raise PermissionDenied
        explainer = self._explainer(request, object_id, change=True)
        try:
            services.explainer_restore_revision(
                explainer=explainer, user=request.user, history_id=history_id
            )
        except Explainer.history.model.DoesNotExist:
            self.message_user(request, "No such revision.", messages.ERROR)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(
                request,
                "Restored the old text as a new version. Readers see it once it is published.",
                messages.SUCCESS,
            )
        return redirect(self._change_url(explainer))

    def notices_view(self, request, object_id):
        """Add corrections and other notices (editors); hide one with a reason (admins)."""
        explainer = self._explainer(request, object_id)
        form, hide_form = NoticeForm(), HideNoticeForm()
        if request.method == "POST":
            try:
                if "hide" in request.POST:
                    hide_form = HideNoticeForm(request.POST)
                    if hide_form.is_valid():
                        notice = get_object_or_404(
                            explainer.notices, pk=hide_form.cleaned_data["notice"]
                        )
                        services.notice_hide(
                            notice=notice,
                            user=request.user,
                            reason=hide_form.cleaned_data["reason"],
                        )
                        self.message_user(request, "The notice is hidden.", messages.SUCCESS)
                        return redirect(request.path)
                else:
                    form = NoticeForm(request.POST)
                    if form.is_valid():
                        services.notice_add(
                            explainer=explainer, user=request.user, **form.cleaned_data
                        )
                        self.message_user(request, "The notice is published.", messages.SUCCESS)
                        return redirect(request.path)
            except PermissionDenied as error:
                self.message_user(request, str(error), messages.ERROR)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
        return self._page(
            request,
            explainer,
            "notices.html",
            f"Notices on “{explainer}”",
            notices=explainer.notices.select_related("created_by", "hidden_by"),
            form=form,
            hide_form=hide_form,
            can_add=request.user.has_perm("explainers.publish_explainer")
            and explainer.live_revision_id is not None,
            can_hide=request.user.is_superuser,
        )

    def preview_links_view(self, request, object_id):
        """Create shareable preview links (shown once) and revoke them."""
        explainer = self._explainer(request, object_id)
        form, new_link = PreviewLinkForm(), None
        if request.method == "POST":
            try:
                if "revoke" in request.POST:
                    link = get_object_or_404(
                        PreviewLink, pk=request.POST["revoke"], explainer=explainer
                    )
                    services.preview_link_revoke(link=link, user=request.user)
                    self.message_user(request, "The link no longer works.", messages.SUCCESS)
                    return redirect(request.path)
                form = PreviewLinkForm(request.POST)
                if form.is_valid():
                    _, token = services.preview_link_create(
                        explainer=explainer, user=request.user, **form.cleaned_data
                    )
                    new_link = request.build_absolute_uri(
                        reverse("explainers:preview", args=[token])
                    )
                    form = PreviewLinkForm()
            except PermissionDenied as error:
                self.message_user(request, str(error), messages.ERROR)
            except (ValidationError, ValueError) as error:
                self.message_user(request, f"{error}", messages.ERROR)
        return self._page(
            request,
            explainer,
            "preview_links.html",
            f"Preview links for “{explainer}”",
            links=explainer.preview_links.select_related("created_by"),
            form=form,
            new_link=new_link,
            can_share=request.user.has_perm("explainers.publish_explainer"),
            now=timezone.now(),
        )

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
                        "Imported “{}” as a draft. Check the headline and sections, then "
                        "submit it for review.",
                        explainer.headline,
                    ),
                    messages.SUCCESS,
                )
            return redirect(self._change_url(explainer))
        context = {
            **self.admin_site.each_context(request),
            "title": "Import an explainer from text",
            "opts": self.opts,
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/explainers/explainer/import.html", context)
