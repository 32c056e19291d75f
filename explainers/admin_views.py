"""The explainer admin's pages beyond the change form: workflow steps, revisions, notices,
preview links, the reader's preview and import from text.

``ExplainerAdmin`` wires them in; what each user may do comes from ``workflow``, and every
write goes through ``services``.
"""

from contextlib import contextmanager
from types import SimpleNamespace

from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import ngettext

from . import diff, importer, services, workflow
from .forms import (
    HideNoticeForm,
    ImportTextForm,
    NoticeForm,
    NotificationPreferenceForm,
    PreviewLinkForm,
    StepForm,
    TransitionForm,
)
from .models import Explainer, NotificationPreference, PreviewLink
from .notifications import kinds_for
from .views import render_preview


@contextmanager
def reported(model_admin, request):
    """Run a service call; a refusal becomes an error message for the user, not a 403 or 500.

    ``outcome.ok`` tells the caller whether the call went through.
    """
    outcome = SimpleNamespace(ok=False)
    try:
        yield outcome
    except PermissionDenied as error:
        model_admin.message_user(request, str(error) or "Not allowed.", messages.ERROR)
    except ValidationError as error:
        model_admin.message_user(request, " ".join(error.messages), messages.ERROR)
    else:
        outcome.ok = True


def get_explainer(model_admin, request, object_id, *, change: bool = False) -> Explainer:
    explainer = get_object_or_404(
        Explainer.objects.with_public_revision().select_related("topic"), pk=object_id
    )
    allowed = (
        model_admin.has_change_permission(request, explainer)
        if change
        else model_admin.has_view_permission(request, explainer)
    )
    if not allowed:
        raise PermissionDenied
    return explainer


def change_url(model_admin, explainer: Explainer) -> str:
    opts = model_admin.opts
    return reverse(
        f"admin:{opts.app_label}_{opts.model_name}_change",
        args=[explainer.pk],
        current_app=model_admin.admin_site.name,
    )


def object_page(model_admin, request, explainer, template, title, **context):
    return TemplateResponse(
        request,
        f"admin/explainers/explainer/{template}",
        {
            **model_admin.admin_site.each_context(request),
            "title": title,
            "opts": model_admin.opts,
            "original": explainer,
            "has_view_permission": True,
            "media": model_admin.media,
            **context,
        },
    )


def preview_view(model_admin, request, object_id):
    """Any explainer, draft or not, in the reader's design; staff only, never cached."""
    return render_preview(request, get_explainer(model_admin, request, object_id))


def transition_view(model_admin, request, object_id):
    """Take one workflow step with no edits (see ``take_step``)."""
    explainer = get_explainer(model_admin, request, object_id)
    if request.method != "POST":
        return redirect(change_url(model_admin, explainer))
    return take_step(model_admin, request, explainer, TransitionForm(request.POST))


@transaction.atomic
def take_step(model_admin, request, explainer: Explainer, form: StepForm):
    """Take the step ``form`` asks for; the workflow table decides whether this user may.

    From the change page, the form's edits are saved first (``ExplainerAdmin.response_change``);
    a ``TransitionForm`` comes from a page with nothing to save. A step that warns readers
    away asks on a page of its own first, unless its user already said yes.
    """
    explainer = (
        Explainer.objects.with_public_revision()
        .select_related("updated_by")
        .select_for_update(of=("self",))
        .get(pk=explainer.pk)
    )
    if not form.is_valid():
        for field, errors in form.errors.items():
            model_admin.message_user(request, f"{field}: {' '.join(errors)}", messages.ERROR)
        return redirect(change_url(model_admin, explainer))
    if form.needs_confirmation:
        return confirm_step_page(model_admin, request, explainer, form)
    with reported(model_admin, request) as outcome:
        form.run(explainer=explainer, user=request.user)
    if outcome.ok:
        event = explainer.events.first()
        model_admin.message_user(
            request, f"{event.get_action_display()}: “{explainer}”.", messages.SUCCESS
        )
    return redirect(change_url(model_admin, explainer))


def confirm_step_page(model_admin, request, explainer: Explainer, form: StepForm):
    """The question a step that warns asks first ("Archive …?"), with a button that takes it.

    Works without JavaScript; the change page's script asks the same in a dialog instead.
    The answer posts to ``transition_view`` for the version its user saw: the one the page they
    came from showed, or the one their edits were just saved as.
    """
    step = form.step
    label = step.label_for(explainer)
    answer = TransitionForm(
        initial={
            "action": step.name,
            "version": form.cleaned_data.get("version", explainer.version),
            "comment": form.cleaned_data["comment"],
            "confirmed": step.name,
        }
    )
    return object_page(
        model_admin,
        request,
        explainer,
        "confirm_step.html",
        f"{label} “{explainer}”?",
        step=step,
        label=label,
        step_form=answer,
    )


def default_pair(revisions: list, live) -> list | None:
    """What the revisions page compares first: the latest change against what readers see.

    ``revisions`` is newest first. The latest revision is compared with the live one, or,
    when there is none or the latest is the live version itself (a step such as publishing
    saves a revision without changing the text), with the newest revision of an earlier
    version: never a version with itself.
    """
    if not revisions:
        return None
    latest = revisions[0]
    if live is not None and live.version != latest.version:
        return [live, latest]
    earlier = next((r for r in revisions if r.version != latest.version), None)
    return [earlier, latest] if earlier else None


def confirm_bulk_step_page(model_admin, request, queryset, step_name: str):
    """The question a bulk action that warns asks first, listing the explainers it would take.

    Django's "Delete selected" asks the same way: the answer posts the action and the
    selection again, with ``post=yes``.
    """
    step = workflow.STEPS[step_name]
    count = queryset.count()
    return TemplateResponse(
        request,
        "admin/explainers/explainer/confirm_bulk_step.html",
        {
            **model_admin.admin_site.each_context(request),
            "title": ngettext(
                "%(step)s %(count)d explainer?", "%(step)s %(count)d explainers?", count
            )
            % {"step": step.label, "count": count},
            "opts": model_admin.opts,
            "media": model_admin.media,
            "step": step,
            "action": request.POST.get("action", ""),
            "explainers": queryset,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        },
    )


def revisions_view(model_admin, request, object_id):
    """Every saved revision; pick any two to compare them field by field."""
    explainer = get_explainer(model_admin, request, object_id)
    revisions = list(
        explainer.history.select_related("history_user", "topic").order_by("-history_date")
    )
    by_id = {r.history_id: r for r in revisions}
    pair = None
    try:
        a = by_id.get(int(request.GET.get("a", 0)))
        b = by_id.get(int(request.GET.get("b", 0)))
    except ValueError:
        a = b = None
    live = by_id.get(explainer.public_revision.history_id) if explainer.live_revision_id else None
    if a and b:
        pair = sorted((a, b), key=lambda r: r.history_date)
    elif "a" not in request.GET:
        pair = default_pair(revisions, live)
    comparison = None
    if pair:
        old, new = pair
        comparison = {"old": old, "new": new, "rows": diff.compare(old, new)}
    return object_page(
        model_admin,
        request,
        explainer,
        "revisions.html",
        f"Revisions of “{explainer}”",
        revisions=revisions,
        comparison=comparison,
        can_restore=workflow.allows(explainer, request.user, "restore"),
        live_id=live.history_id if live else None,
    )


def restore_view(model_admin, request, object_id, history_id):
    """Bring an old revision back as a new version (history is kept)."""
    if request.method != "POST":
        raise PermissionDenied
    explainer = get_explainer(model_admin, request, object_id)
    if not explainer.history.filter(history_id=history_id).exists():
        model_admin.message_user(request, "No such revision.", messages.ERROR)
        return redirect(change_url(model_admin, explainer))
    with reported(model_admin, request) as outcome:
        services.explainer_restore_revision(
            explainer=explainer, user=request.user, history_id=history_id
        )
    if outcome.ok:
        model_admin.message_user(
            request,
            f"{explainer.events.first().comment} Readers see it once it is published.",
            messages.SUCCESS,
        )
    return redirect(change_url(model_admin, explainer))


def notices_view(model_admin, request, object_id):
    """Add corrections and other notices (editors); hide one with a reason (admins)."""
    explainer = get_explainer(model_admin, request, object_id)
    form, hide_form = NoticeForm(), HideNoticeForm()
    if request.method == "POST" and "hide" in request.POST:
        hide_form = HideNoticeForm(request.POST)
        if hide_form.is_valid():
            notice = get_object_or_404(explainer.notices, pk=hide_form.cleaned_data["notice"])
            with reported(model_admin, request) as outcome:
                services.notice_hide(
                    notice=notice, user=request.user, reason=hide_form.cleaned_data["reason"]
                )
            if outcome.ok:
                model_admin.message_user(request, "The notice is hidden.", messages.SUCCESS)
                return redirect(request.path)
    elif request.method == "POST":
        form = NoticeForm(request.POST)
        if form.is_valid():
            with reported(model_admin, request) as outcome:
                services.notice_add(explainer=explainer, user=request.user, **form.cleaned_data)
            if outcome.ok:
                model_admin.message_user(request, "The notice is published.", messages.SUCCESS)
                return redirect(request.path)
    return object_page(
        model_admin,
        request,
        explainer,
        "notices.html",
        f"Notices on “{explainer}”",
        notices=explainer.notices.select_related("created_by", "hidden_by"),
        form=form,
        hide_form=hide_form,
        can_add=workflow.allows(explainer, request.user, "add_notice"),
        can_hide=workflow.allows(explainer, request.user, "hide_notice"),
    )


def preview_links_view(model_admin, request, object_id):
    """Create shareable preview links (shown once) and revoke them."""
    explainer = get_explainer(model_admin, request, object_id)
    form, new_link = PreviewLinkForm(), None
    if request.method == "POST" and "revoke" in request.POST:
        link = get_object_or_404(
            PreviewLink,
            pk=request.POST["revoke"] if request.POST["revoke"].isdigit() else 0,
            explainer=explainer,
        )
        with reported(model_admin, request) as outcome:
            services.preview_link_revoke(link=link, user=request.user)
        if outcome.ok:
            model_admin.message_user(request, "The link no longer works.", messages.SUCCESS)
            return redirect(request.path)
    elif request.method == "POST":
        form = PreviewLinkForm(request.POST)
        if form.is_valid():
            with reported(model_admin, request) as outcome:
                _, token = services.preview_link_create(
                    explainer=explainer, user=request.user, **form.cleaned_data
                )
            if outcome.ok:
                new_link = request.build_absolute_uri(reverse("explainers:preview", args=[token]))
                form = PreviewLinkForm()
    return object_page(
        model_admin,
        request,
        explainer,
        "preview_links.html",
        f"Preview links for “{explainer}”",
        links=explainer.preview_links.select_related("created_by"),
        form=form,
        new_link=new_link,
        can_share=workflow.allows(explainer, request.user, "share_preview"),
        now=timezone.now(),
    )


def import_view(model_admin, request):
    """Turn pasted plain text into a draft, with the importer's errors next to the field."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    form = ImportTextForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        (outcome,) = importer.import_parsed(
            documents=[form.cleaned_data["text"]], user=request.user
        )
        explainer = outcome.explainer
        if outcome.action == "unchanged":
            model_admin.message_user(
                request,
                format_html(
                    "This text was imported before as “{}”; nothing was changed.",
                    explainer.headline,
                ),
                messages.WARNING,
            )
        else:
            model_admin.message_user(
                request,
                format_html(
                    "Imported “{}” as a draft. Check the headline and sections, then "
                    "submit it for review.",
                    explainer.headline,
                ),
                messages.SUCCESS,
            )
            problem = form.cleaned_data["text"].headline_problem
            if problem is not None:
                model_admin.message_user(request, str(problem), messages.WARNING)
        return redirect(change_url(model_admin, explainer))
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Import an explainer from text",
        "opts": model_admin.opts,
        "form": form,
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, "admin/explainers/explainer/import.html", context)


def notification_settings_view(model_admin, request):
    """Each person turns their own workflow emails on or off."""
    kinds = kinds_for(request.user)
    current = NotificationPreference.objects.filter(user=request.user).first()
    form = NotificationPreferenceForm(
        request.POST if request.method == "POST" else None, instance=current, kinds=kinds
    )
    if request.method == "POST" and form.is_valid():
        services.notification_preference_set(
            user=request.user, **{kind: form.cleaned_data[kind] for kind in kinds}
        )
        model_admin.message_user(request, "Your notification settings are saved.", messages.SUCCESS)
        return redirect(request.path)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Your notification emails",
        "opts": model_admin.opts,
        "form": form,
        "has_email": bool(request.user.email),
        "media": model_admin.media,
    }
    return TemplateResponse(request, "admin/explainers/notification_settings.html", context)
