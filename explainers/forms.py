from datetime import datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone

from newsroom.crispy import SubmitButton

from . import images, importer, search, services, text, workflow
from .models import (
    SECTION_FIELDS,
    VERSIONED_FIELDS,
    Explainer,
    Notice,
    NotificationPreference,
    version_value,
)
from .notifications import KINDS


def conflict_changes(current: Explainer, loaded_at: str) -> list[str]:
    """Names of the fields changed since ``loaded_at`` (an ISO time), from the revisions."""
    try:
        opened = datetime.fromisoformat(loaded_at)
    except (ValueError, TypeError):
        return []
    then = current.history.filter(updated_at=opened).order_by("-history_date").first()
    if then is None:
        return []
    return [
        str(Explainer._meta.get_field(name).verbose_name)
        for name in VERSIONED_FIELDS
        if version_value(then, name) != version_value(current, name)
    ]


class LeadImageField(forms.FileField):
    """An image upload checked and re-encoded (``explainers.images``) before the model sees it.

    Django's own ImageField has Pillow read the file before any size check; this one checks
    the size first, then the kind by content, the pixel count from the header, and only then
    decodes. What the model stores is the re-encoded copy.
    """

    def to_python(self, data):
        upload = super().to_python(data)
        if upload is None:
            return None
        safe = images.make_safe(upload)
        safe.file.notes = safe.notes
        return safe.file

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        if isinstance(widget, forms.FileInput) and "accept" not in widget.attrs:
            attrs["accept"] = images.ACCEPT
        return attrs


FOCAL_WIDGET = forms.NumberInput(attrs={"min": 0, "max": 100, "step": 1, "size": 4})


class SectionField(forms.CharField):
    """A section's text with its line breaks as stored: a browser sending the text back
    unchanged, with CRLF, has not changed it (nor voided its sign-off)."""

    def to_python(self, value):
        return text.unix_newlines(super().to_python(value))


class ExplainerAdminForm(forms.ModelForm):
    """The editor's form: fills in what can be derived and explains what is wrong next to it."""

    class Meta:
        model = Explainer
        fields = tuple(
            # Every field an editor sets is part of the version; sources come from their rows.
            name
            for name in VERSIONED_FIELDS
            if name != "source_list"
        )
        field_classes = {"image": LeadImageField, **dict.fromkeys(SECTION_FIELDS, SectionField)}
        widgets = {
            "image_focal_x": FOCAL_WIDGET,
            "image_focal_y": FOCAL_WIDGET,
            "headline": forms.TextInput(attrs={"size": 90}),
            "slug": forms.TextInput(attrs={"size": 90}),
            "whats_happening": forms.Textarea(attrs={"rows": 9, "cols": 90}),
            "why_its_important": forms.Textarea(attrs={"rows": 7, "cols": 90}),
            "whats_next": forms.Textarea(attrs={"rows": 7, "cols": 90}),
        }

    # When the editor opened the form: a later save by someone else is a conflict.
    loaded_at = forms.CharField(widget=forms.HiddenInput, required=False)
    ai_label_reason = forms.CharField(
        label="Why remove the AI label?",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 90}),
        help_text="Only when unticking “AI generated”: say why the text is not AI generated. "
        "The timeline keeps the reason.",
    )
    # The user saving the form; ExplainerAdmin.get_form sets it.
    user = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:
            self.fields["slug"].required = False
        if "image" in self.fields:
            self.fields["image"].help_text = (
                "Optional. JPEG, PNG, WebP or GIF (the first frame), at most "
                f"{filesizeformat(settings.MAX_IMAGE_UPLOAD_BYTES)} and "
                f"{settings.MAX_IMAGE_PIXELS // 1_000_000} megapixels; at least "
                f"{images.SEARCH_ENGINE_MIN_WIDTH} pixels wide for search engines to show it "
                "large. It is stored without its metadata (camera, place), under a new name."
            )
        # What the editor should know about an accepted image (the admin shows it on saving).
        self.image_notes: list[str] = []
        for name in ("image_focal_x", "image_focal_y"):
            if name in self.fields:
                self.fields[name].required = False  # left empty: the point stays where it was
        if self.instance.pk:
            self.fields["loaded_at"].initial = self.instance.updated_at.isoformat()
        # The Workflow panel's fields: a step pressed on the page comes with the edits.
        pressed = self.is_bound and f"{StepForm.prefix}-action" in self.data
        self.step_form = StepForm(
            self.data if pressed else None, initial={"expires_at": self.instance.expires_at}
        )

    def clean_slug(self):
        slug = self.cleaned_data.get("slug")
        if slug:
            slug = slug.lower()
            if services.slug_is_taken(slug, exclude_pk=self.instance.pk):
                raise ValidationError(
                    "Another explainer uses this slug, or used it and still redirects from "
                    "it. Choose another.",
                    code="slug_taken",
                )
            return slug
        headline = self.data.get(self.add_prefix("headline"), "").strip()
        if not headline:
            return slug  # the headline's own "required" error says what to do
        return services.unique_slug(headline, exclude_pk=self.instance.pk)

    def check_conflict(self) -> None:
        """Refuse the save if someone else saved after this form was opened (no lost edits).

        The row is locked until the save commits, so two saves cannot both pass this check.
        """
        if not self.instance.pk:
            return
        current = (
            Explainer.objects.select_for_update(of=("self",))
            .select_related("updated_by")
            .get(pk=self.instance.pk)
        )
        loaded_at = self.data.get(self.add_prefix("loaded_at"), "")
        if loaded_at == current.updated_at.isoformat():
            return
        changed = conflict_changes(current, loaded_at)
        who = current.updated_by.get_username() if current.updated_by else "Someone"
        # The next save, made knowing this, is against the version now stored.
        self.data = self.data.copy()
        self.data[self.add_prefix("loaded_at")] = current.updated_at.isoformat()
        raise ValidationError(
            "%(who)s saved this explainer at %(time)s, after you opened it, changing: "
            "%(changed)s. Nothing of yours was saved, and your text is still in the form "
            "below. Compare it with their version (open the explainer in a new tab), then "
            "save again to keep yours.",
            code="edit_conflict",
            params={
                "who": who,
                "time": timezone.localtime(current.updated_at).strftime("%H:%M:%S"),
                "changed": ", ".join(changed) or "its publishing details",
            },
        )

    def clean_image(self):
        image = self.cleaned_data.get("image")
        self.image_notes = list(getattr(image, "notes", []))
        return image

    def clean_image_focal_x(self):
        return self._focal("image_focal_x")

    def clean_image_focal_y(self):
        return self._focal("image_focal_y")

    def _focal(self, name: str) -> int:
        value = self.cleaned_data.get(name)
        return getattr(self.instance, name) if value is None else value

    def clean_image_ai_generated(self):
        """Once an image is marked AI-generated, only a user who may sign off AI content can
        unmark it, even with a new picture: a writer could otherwise pass one off as a photo."""
        value = self.cleaned_data.get("image_ai_generated")
        locked = self.instance.pk and self.instance.stored("image_ai_generated")
        if locked and not value and not workflow.may(self.user, "remove_ai_label"):
            raise ValidationError(
                "The image is marked as AI-generated. Only an editor who may sign off AI "
                "content can remove that label, also when the picture is replaced; ask one.",
                code="ai_image_label_locked",
            )
        return value

    def clean_ai_generated(self):
        """Once text is marked AI generated, only a user who may sign off can unmark it."""
        value = self.cleaned_data.get("ai_generated")
        if self.instance.pk and self.instance.stored("ai_generated") and not value:
            if not workflow.may(self.user, "remove_ai_label"):
                raise ValidationError(
                    "This text is marked as AI generated. Only an editor who may sign off AI "
                    "text can remove the label; ask one to review it.",
                    code="ai_label_locked",
                )
            reason = (self.data.get(self.add_prefix("ai_label_reason")) or "").strip()
            if not reason:
                self.add_error(
                    "ai_label_reason",
                    ValidationError(
                        "Say why the text is not AI generated; the timeline keeps the reason.",
                        code="ai_label_reason_required",
                    ),
                )
        return value

    @property
    def takes_step(self) -> bool:
        """A Workflow panel button was pressed: the step follows the save."""
        return self.step_form.is_bound

    @property
    def step_label(self) -> str:
        return self.step_form.label_for(self.instance)

    def clean(self):
        cleaned = super().clean()
        self.check_conflict()
        if self.takes_step and not self.step_form.is_valid():
            self.add_error(
                None,
                ValidationError(
                    "“%(step)s” was not taken: the Workflow panel says what it needs.",
                    code="step_invalid",
                    params={"step": self.step_label},
                ),
            )
        if "image" in self.changed_data and not {"image_focal_x", "image_focal_y"} & set(
            self.changed_data
        ):
            # A new picture has its subject elsewhere: start from the middle, not the old point.
            cleaned["image_focal_x"] = cleaned["image_focal_y"] = 50
        if cleaned.get("image") and not (cleaned.get("image_alt") or "").strip():
            self.add_error(
                "image_alt",
                ValidationError(
                    "Describe the image for readers who cannot see it.", code="alt_required"
                ),
            )
        return cleaned


class ImportTextForm(forms.Form):
    """Paste a draft in the plain-text format the importer reads."""

    text = forms.CharField(
        label="Draft text",
        widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "spellcheck": "false"}),
        max_length=importer.MAX_FILE_BYTES,
        help_text="Paste the draft as it arrived: the headings What's Happening?, "
        "Why It's Important? and What's Next? on their own lines, each followed by its "
        "paragraphs. An optional headline goes above the first heading; a line "
        "“AI Generated Content” marks model-drafted text.",
    )

    def clean_text(self):
        try:
            return importer.parse_text(self.cleaned_data["text"])
        except importer.ParseError as error:
            raise ValidationError(
                [ValidationError(str(problem), code="invalid") for problem in error.problems]
            ) from None


class StepForm(forms.Form):
    """One workflow step as the change page's Workflow panel sends it: the button pressed,
    its comment and, for publishing, the times. Posted with the change form (prefix
    ``workflow``), it validates with it: nothing is saved unless both do."""

    action = forms.ChoiceField(
        choices=[(name, workflow.STEPS[name].label) for name in services.TRANSITIONS]
    )
    comment = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}), max_length=2000
    )
    publish_at = forms.DateTimeField(
        label="Publish at",
        required=False,
        help_text="Leave empty to publish now; a future time schedules it.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    expires_at = forms.DateTimeField(
        label="Expires at",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    # The step's name once its user has said yes to its warning (workflow.Step.warning).
    confirmed = forms.CharField(required=False, widget=forms.HiddenInput)

    prefix = "workflow"

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("action")
        if action:
            error = workflow.STEPS[action].comment_refusal(cleaned.get("comment", ""))
            if error is not None:
                self.add_error("comment", error)
        return cleaned

    @property
    def step(self) -> workflow.Step:
        return workflow.STEPS[self.cleaned_data["action"]]

    def label_for(self, explainer: Explainer) -> str:
        """The pressed button's label, valid or not (for saying what was not done)."""
        name = self.data.get(self.add_prefix("action"), "") if self.is_bound else ""
        if name not in services.TRANSITIONS:
            return "The step"
        return workflow.STEPS[name].label_for(explainer)

    @property
    def needs_confirmation(self) -> bool:
        """The step warns readers away and its user has not said yes to that yet."""
        return bool(self.step.warning) and self.cleaned_data["confirmed"] != self.step.name

    def run(self, *, explainer: Explainer, user) -> None:
        """Apply the step through its service (which checks role and state)."""
        data = self.cleaned_data
        kwargs = {"explainer": explainer, "user": user, "comment": data["comment"]}
        if data["action"] == "publish":
            kwargs.update(at=data["publish_at"], expires_at=data["expires_at"])
        services.TRANSITIONS[data["action"]](**kwargs)


class TransitionForm(StepForm):
    """One workflow step on its own, with no edits: from a page that has nothing to save (a
    read-only change page, the confirmation of a step that warns) or a script."""

    # The version the page showed: a step is never taken on text its user has not seen.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    prefix = None

    def run(self, *, explainer: Explainer, user) -> None:
        """Check the version, then take the step.

        ``explainer`` must be locked: the version check and the step are then one decision.
        """
        if self.cleaned_data["version"] != explainer.version:
            who = explainer.updated_by.get_username() if explainer.updated_by else "Someone"
            raise ValidationError(
                "%(who)s saved version %(version)s after you opened this page, so nothing was "
                "done. Review the changes below, then try again.",
                code="stale_version",
                params={"who": who, "version": explainer.version},
            )
        super().run(explainer=explainer, user=user)


class NotificationPreferenceForm(forms.ModelForm):
    """One person's workflow emails: only the kinds that fit their role are offered."""

    class Meta:
        model = NotificationPreference
        fields = KINDS

    def __init__(self, *args, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        for name in set(self.fields) - set(kinds):
            del self.fields[name]


class NoticeForm(forms.ModelForm):
    class Meta:
        model = Notice
        fields = ("kind", "text")
        widgets = {"text": forms.Textarea(attrs={"rows": 3, "cols": 80})}


class HideNoticeForm(forms.Form):
    notice = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label="Why hide it?", max_length=500)


class PreviewLinkForm(forms.Form):
    label = forms.CharField(label="Shared with", max_length=120, required=False)
    days = forms.IntegerField(label="Valid for (days)", min_value=1, max_value=90, initial=7)


class SearchForm(forms.Form):
    """The readers' search box, drawn by the site's crispy pack; it sends a plain GET.

    Only a query worth running is valid: at most 200 characters, no control characters, and
    at least one word to look for (not only operators, punctuation or words to leave out).
    """

    q = forms.CharField(
        label="Search explainers",
        max_length=search.MAX_QUERY_LENGTH,
        help_text='Use quotes for a phrase ("peace talks"), a minus to leave a word out '
        "(-trade), and or between alternatives.",
        error_messages={
            "required": "Enter the words to search for.",
            "max_length": "Search for at most %(limit_value)d characters; this has "
            "%(show_value)d. Shorten your search.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["q"]
        # Django's own message for a NUL byte ("Null characters are not allowed.") names no fix.
        field.validators = [
            v for v in field.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]
        field.widget.attrs.update({"autocomplete": "off", "spellcheck": "true"})
        field.widget.input_type = "search"
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_action = reverse("explainers:search")
        self.helper.form_class = "search-form"
        self.helper.attrs = {"role": "search"}
        self.helper.disable_csrf = True
        self.helper.layout = Layout("q")
        self.helper.add_input(SubmitButton("Search"))

    def clean_q(self):
        query = search.normalise(self.cleaned_data["q"])
        if any(ord(c) < 32 for c in self.cleaned_data["q"] if c not in "\t\n\r"):
            raise ValidationError(
                "Remove the control characters from your search.", code="control_characters"
            )
        if search.parse(query).is_empty:
            raise ValidationError(
                "Search for at least one word of letters or digits, not only operators, "
                "punctuation or words to leave out.",
                code="no_words",
            )
        return query
