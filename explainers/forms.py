from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from . import importer
from .models import Explainer
from .services import unique_slug


class ExplainerAdminForm(forms.ModelForm):
    """The editor's form: fills in what can be derived and explains what is wrong next to it."""

    class Meta:
        model = Explainer
        fields = (
            "headline",
            "slug",
            "whats_happening",
            "why_its_important",
            "whats_next",
            "ai_generated",
            "topic",
            "image",
            "image_alt",
            "image_credit",
            "status",
            "published_at",
        )
        widgets = {
            "headline": forms.TextInput(attrs={"size": 90}),
            "slug": forms.TextInput(attrs={"size": 90}),
            "whats_happening": forms.Textarea(attrs={"rows": 9, "cols": 90}),
            "why_its_important": forms.Textarea(attrs={"rows": 7, "cols": 90}),
            "whats_next": forms.Textarea(attrs={"rows": 7, "cols": 90}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:
            self.fields["slug"].required = False

    def clean_slug(self):
        slug = self.cleaned_data.get("slug")
        if slug:
            return slug.lower()
        headline = self.data.get(self.add_prefix("headline"), "").strip()
        if not headline:
            return slug  # the headline's own "required" error says what to do
        return unique_slug(headline, exclude_pk=self.instance.pk)

    def clean_image(self):
        image = self.cleaned_data.get("image")
        size = getattr(image, "size", 0)
        if image and size > settings.MAX_IMAGE_UPLOAD_BYTES:
            raise ValidationError(
                "This image is %(size)s; the largest allowed is %(limit)s.",
                code="file_too_large",
                params={
                    "size": filesizeformat(size),
                    "limit": filesizeformat(settings.MAX_IMAGE_UPLOAD_BYTES),
                },
            )
        return image

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("image") and not (cleaned.get("image_alt") or "").strip():
            self.add_error(
                "image_alt",
                ValidationError(
                    "Describe the image for readers who cannot see it.", code="alt_required"
                ),
            )
        if cleaned.get("status") == Explainer.Status.PUBLISHED and not cleaned.get("published_at"):
            cleaned["published_at"] = timezone.now()
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
