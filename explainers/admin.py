from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db import models
from django.db.models import Q
from django.http import HttpResponseBadRequest
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join

from newsroom.admin import ReadOnlyModelAdmin, person

from . import admin_views, images, renditions, services, workflow
from .dashboard import QUEUES
from .forms import ExplainerAdminForm, StepForm, TransitionForm
from .models import SECTION_FIELDS, Explainer, Notice, Source, Topic

Status = Explainer.Status


def short_time(value) -> str:
    """A local date and time in the admin's one format (DATETIME_FORMAT)."""
    if not value:
        return "-"
    return date_format(timezone.localtime(value), "DATETIME_FORMAT")


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}

    def get_deleted_objects(self, objs, request):
        """A topic that a published version shows is protected, like one a draft uses."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        pks = [topic.pk for topic in objs]
        shown = Explainer.objects.filter(
            Q(live_revision__topic__in=pks) | Q(scheduled_revision__topic__in=pks)
        ).distinct()
        note = "its published version shows this topic"
        protected = [*protected, *(f"Explainer: {explainer} ({note})" for explainer in shown)]
        return deleted, counts, perms_needed, protected


class SourceInline(admin.StackedInline):
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
    readonly_fields = [
        {"created_by": "created_by_name", "hidden_by": "hidden_by_name"}.get(field.name, field.name)
        for field in Notice._meta.fields
    ]
    exclude = ("created_by", "hidden_by")
    created_by_name = person("created_by", "added by")
    hidden_by_name = person("hidden_by", "hidden by")


class QueueFilter(admin.SimpleListFilter):
    """The home page's queues ("Waiting for review", "My drafts"…), which link here."""

    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        user = request.user
        return [
            (queue.key, queue.title)
            for queue in QUEUES.values()
            if user.is_superuser or queue.audience(user)
        ]

    def queryset(self, request, queryset):
        queue = QUEUES.get(self.value())
        return queue.narrow(queryset, request.user) if queue else queryset


@admin.register(Explainer)
class ExplainerAdmin(admin.ModelAdmin):
    form = ExplainerAdminForm
    change_list_template = "admin/explainers/explainer/change_list.html"
    list_display = ("headline", "state", "topic", "ai", "published", "updated")
    list_display_links = ("headline",)
    list_filter = (QueueFilter, "status", "topic", "ai_generated")
    list_select_related = ("topic", "live_revision", "scheduled_revision")
    search_fields = ("headline", "whats_happening", "why_its_important", "whats_next")
    date_hierarchy = "published_at"
    ordering = ("-updated_at",)
    prepopulated_fields = {"slug": ("headline",)}
    readonly_fields = (
        "state",
        "published_at",
        "expires_at",
        "sign_off",
        "image_facts",
        "focal_point",
        "created_at",
        "created_by_name",
        "updated_at",
        "updated_by_name",
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
        ("Disclosure", {"fields": ("ai_generated", "ai_label_reason", "sign_off")}),
        (
            "Topic and image",
            {
                "fields": (
                    "topic",
                    "image",
                    "image_facts",
                    "image_alt",
                    "image_credit",
                    "image_ai_generated",
                    "focal_point",
                    ("image_focal_x", "image_focal_y"),
                )
            },
        ),
        (
            "Publishing",
            {
                "fields": (
                    "state",
                    ("published_at", "expires_at"),
                    ("created_at", "created_by_name"),
                    ("updated_at", "updated_by_name"),
                ),
                "description": "Publishing happens through the Workflow panel above, so every "
                "step is checked and recorded.",
            },
        ),
    )

    class Media:
        css = {"all": ("css/admin-explainers.css",)}
        # Static files, as the Content-Security-Policy requires: the focal-point picker, the
        # question before leaving unsaved edits, and the one before a step that warns.
        js = ("js/admin-focal-point.js", "js/admin-unsaved-changes.js", "js/admin-workflow.js")

    created_by_name = person("created_by", "created by")
    updated_by_name = person("updated_by", "updated by")

    @admin.display(description="status", ordering="status")
    def state(self, obj):
        scheduled_for = obj.scheduled_for
        if scheduled_for and obj.scheduled_revision_id:
            return format_html("Published, changes scheduled for {}", short_time(scheduled_for))
        if scheduled_for:
            return format_html("Scheduled for {}", short_time(scheduled_for))
        label = obj.get_status_display()
        if obj.status == Status.PUBLISHED and obj.has_pending_changes:
            return f"{label}, changes waiting for publication"
        # Per row, without a query: an expiry time that has passed.
        if obj.status == Status.PUBLISHED and obj.expires_at and obj.expires_at <= timezone.now():
            return "Expired"
        return label

    @admin.display(description="text", ordering="ai_generated")
    def ai(self, obj):
        # Words, not a green tick or a red cross: who drafted the text is a fact, not a verdict.
        if obj.ai_generated:
            return format_html('<span class="origin-badge origin-ai">{}</span>', "AI-drafted")
        return format_html('<span class="origin-badge origin-human">{}</span>', "Human-written")

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
                short_time(obj.reviewed_at),
                obj.reviewed_version,
            )
        if obj.reviewed_version:
            return "Void: the text changed after the last sign-off. An editor must sign off again."
        return "Needed before publishing: an editor must sign off the AI-drafted text."

    @admin.display(description="image size")
    def image_facts(self, obj):
        if not obj.image:
            return "No image."
        facts = format_html("{} × {} pixels.", obj.image_width, obj.image_height)
        if obj.image_width and obj.image_width < images.SEARCH_ENGINE_MIN_WIDTH:
            facts = format_html(
                '{} <strong class="image-narrow">Narrower than {} pixels: search engines and '
                "news apps may show it only as a small thumbnail.</strong>",
                facts,
                images.SEARCH_ENGINE_MIN_WIDTH,
            )
        return facts

    @admin.display(description="focal point")
    def focal_point(self, obj):
        """The picker: click the picture to set the two fields below; the crops follow.

        Drawn by static/js/admin-focal-point.js. Without JavaScript (or a pointer) the two
        number fields do the same.
        """
        if not obj.image:
            return "Upload an image and save: then click its subject here to set the focal point."
        crops = format_html_join(
            "",
            '<figure class="focal-crop"><div class="crop-frame crop-{}" data-crop="{}:{}">'
            '<img src="{}" alt=""></div><figcaption>{}:{}</figcaption></figure>',
            (
                (name, ratio_w, ratio_h, obj.image.url, ratio_w, ratio_h)
                for name, ratio_w, ratio_h in renditions.CROPS
            ),
        )
        return format_html(
            '<div class="focal-picker" data-focal-picker data-x="id_image_focal_x" '
            'data-y="id_image_focal_y">'
            '<p class="focal-help">Click the subject of the picture (a face, the speaker) or type '
            "its position in the two fields below. The crops search engines and apps show "
            "keep it in frame. Saved with the version: readers get it once published.</p>"
            '<div class="focal-stage"><img class="focal-image" src="{}" alt="" width="{}" '
            'height="{}"><span class="focal-marker" hidden></span></div>'
            '<p class="focal-status" aria-live="polite"></p>'
            '<div class="focal-crops">{}</div></div>',
            obj.image.url,
            obj.image_width,
            obj.image_height,
            crops,
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        # The form checks edits only some roles may make (removing the AI label).
        form.user = request.user
        return form

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        hidden = set()
        if obj is not None and not self.has_change_permission(request, obj):
            # Read-only viewers (analysts, archived explainers) have no form to guard.
            hidden |= {"loaded_at", "ai_label_reason"}
        if obj is None or not obj.ai_generated or not workflow.may(request.user, "remove_ai_label"):
            hidden.add("ai_label_reason")
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in hidden]})
            for name, options in fieldsets
        ]

    def has_change_permission(self, request, obj=None):
        if obj is not None and not workflow.allows(obj, request.user, "edit"):
            return False
        return super().has_change_permission(request, obj)

    def has_submit_permission(self, request):
        return workflow.may(request.user, "submit")

    def has_publish_permission(self, request):
        return workflow.may(request.user, "publish")

    def has_unpublish_permission(self, request):
        return workflow.may(request.user, "unpublish")

    def has_archive_permission(self, request):
        return workflow.may(request.user, "archive")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        obj.updated_by = request.user
        # The version is recorded once the sources are saved too, in save_related().
        obj.skip_history_when_saving = True
        super().save_model(request, obj, form, change)
        for note in form.image_notes:
            self.message_user(request, note, messages.WARNING)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        del obj.skip_history_when_saving
        version = obj.version
        services.explainer_record_edit(
            explainer=obj,
            user=request.user,
            ai_label_reason=form.cleaned_data.get("ai_label_reason", ""),
        )
        if form.takes_step and obj.version != version:
            self.message_user(
                request, f"Your changes are saved as version {obj.version}.", messages.SUCCESS
            )

    def response_change(self, request, obj):
        """A Workflow panel button saved the form (with its sources); now take its step."""
        if self._step_pressed(request):
            return admin_views.take_step(self, request, obj, StepForm(request.POST))
        return super().response_change(request, obj)

    @staticmethod
    def _step_pressed(request) -> bool:
        return request.method == "POST" and f"{StepForm.prefix}-action" in request.POST

    def delete_model(self, request, obj):
        renditions.forget([obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        renditions.forget(queryset)
        super().delete_queryset(request, queryset)

    def _bulk(self, request, queryset, step):
        if workflow.STEPS[step].warning and request.POST.get("post") != "yes":
            # As on the change page, a step that takes explainers from readers asks first.
            return admin_views.confirm_bulk_step_page(self, request, queryset, step)
        with admin_views.reported(self, request):
            done, problems = services.bulk(
                services.TRANSITIONS[step],
                explainers=queryset.with_public_revision(),
                user=request.user,
            )
            if done:
                label = workflow.STEPS[step].label
                self.message_user(request, f"{label}: {done} explainer(s).", messages.SUCCESS)
            for problem in problems:
                self.message_user(request, problem, messages.WARNING)

    @admin.action(description="Submit selected for review", permissions=("submit",))
    def submit_selected(self, request, queryset):
        self._bulk(request, queryset, "submit")

    @admin.action(description="Publish selected explainers", permissions=("publish",))
    def publish_selected(self, request, queryset):
        self._bulk(request, queryset, "publish")

    @admin.action(description="Unpublish selected explainers", permissions=("unpublish",))
    def unpublish_selected(self, request, queryset):
        return self._bulk(request, queryset, "unpublish")

    @admin.action(description="Archive selected explainers", permissions=("archive",))
    def archive_selected(self, request, queryset):
        return self._bulk(request, queryset, "archive")

    def get_queryset(self, request):
        # The state column and the change form compare against the approved revisions.
        return super().get_queryset(request).select_related(*self.list_select_related)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Django honours "Save as new" even with save_as off; a copy would shed the AI label.
        if request.method == "POST" and "_saveasnew" in request.POST and not self.save_as:
            return HttpResponseBadRequest("Saving a copy is not offered for explainers.")
        if self._step_pressed(request) and object_id is not None:
            explainer = self.get_object(request, unquote(object_id))
            if (
                explainer is not None
                and not self.has_change_permission(request, explainer)
                and self.has_view_permission(request, explainer)
            ):
                # A read-only page has no edits to save: the step alone, for the version shown.
                form = TransitionForm(request.POST, prefix=StepForm.prefix)
                return admin_views.take_step(self, request, explainer, form)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        explainer = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if explainer is not None:
            extra_context.update(self.workflow_context(request, explainer))
        return super().change_view(request, object_id, form_url, extra_context)

    def workflow_context(self, request, explainer):
        steps = workflow.available_steps(explainer, request.user)
        return {
            "workflow_steps": [
                (step.name, step.label_for(explainer), step.warning) for step in steps
            ],
            "workflow_blocked": [
                (step.label_for(explainer), reason)
                for step, reason in workflow.blocked_steps(explainer, request.user)
            ],
            "comment_required_by": [
                step.label_for(explainer).lower() for step in steps if step.comment_required
            ],
            "workflow_events": explainer.events.select_related("user")[:50],
            "offers_publish": any(step.name == "publish" for step in steps),
            "pending_fields": explainer.pending_fields(),
        }

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"

        def view(function):
            return self.admin_site.admin_view(
                lambda request, *args, **kwargs: function(self, request, *args, **kwargs)
            )

        return [
            path("import/", view(admin_views.import_view), name=f"{info}_import"),
            path(
                "notifications/",
                view(admin_views.notification_settings_view),
                name="explainers_notification_settings",
            ),
            path(
                "<path:object_id>/preview/",
                view(admin_views.preview_view),
                name=f"{info}_preview",
            ),
            path(
                "<path:object_id>/transition/",
                view(admin_views.transition_view),
                name=f"{info}_transition",
            ),
            path(
                "<path:object_id>/revisions/",
                view(admin_views.revisions_view),
                name=f"{info}_revisions",
            ),
            path(
                "<path:object_id>/revisions/<int:history_id>/restore/",
                view(admin_views.restore_view),
                name=f"{info}_restore",
            ),
            path(
                "<path:object_id>/notices/",
                view(admin_views.notices_view),
                name=f"{info}_notices",
            ),
            path(
                "<path:object_id>/preview-links/",
                view(admin_views.preview_links_view),
                name=f"{info}_preview_links",
            ),
            *super().get_urls(),
        ]
