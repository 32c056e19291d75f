from django.conf import settings
from django.core.validators import FileExtensionValidator, URLValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from . import text

# The three fixed sections, in the order readers see them: (field name, heading, guidance).
SECTIONS = (
    (
        "whats_happening",
        "What's Happening?",
        "The news itself: who did what, when and where. Facts only, newest first. "
        "Separate paragraphs with a blank line.",
    ),
    (
        "why_its_important",
        "Why It's Important?",
        "Why a reader should care: consequences, stakes, the people affected. "
        "Separate paragraphs with a blank line.",
    ),
    (
        "whats_next",
        "What's Next?",
        "What happens now: scheduled events, decisions pending, what to watch. "
        "Separate paragraphs with a blank line.",
    ),
)
SECTION_FIELDS = tuple(name for name, _, _ in SECTIONS)
# A change to any of these is a new version of the text readers rate.
CONTENT_FIELDS = ("headline", *SECTION_FIELDS, "ai_generated")


class Topic(models.Model):
    name = models.CharField("name", max_length=80, unique=True)
    slug = models.SlugField(
        "slug", max_length=80, unique=True, help_text="Used in addresses; letters, digits, hyphens."
    )

    class Meta:
        ordering = ("name",)
        verbose_name = "topic"
        verbose_name_plural = "topics"

    def __str__(self):
        return self.name


class ExplainerQuerySet(models.QuerySet):
    def published(self):
        """What readers may see: published, with a publication time that has come."""
        return self.filter(status=Explainer.Status.PUBLISHED, published_at__lte=timezone.now())


class Explainer(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        UNPUBLISHED = "unpublished", "Unpublished"

    headline = models.CharField(
        "headline",
        max_length=200,
        help_text="The page's title: specific, plain, under about 100 characters.",
    )
    slug = models.SlugField(
        "slug",
        max_length=100,
        unique=True,
        help_text="The last part of the address, /explainers/<slug>/. Lower-case letters, "
        "digits and hyphens. Filled in from the headline when left empty.",
        error_messages={"unique": "Another explainer already uses this slug. Choose another."},
    )
    whats_happening = models.TextField("What's Happening?", help_text=SECTIONS[0][2])
    why_its_important = models.TextField("Why It's Important?", help_text=SECTIONS[1][2])
    whats_next = models.TextField("What's Next?", help_text=SECTIONS[2][2])
    ai_generated = models.BooleanField(
        "AI generated",
        default=False,
        help_text="Tick when a model drafted the text. Readers then see the label "
        "“AI Generated Content”.",
    )
    topic = models.ForeignKey(
        Topic,
        verbose_name="topic",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="explainers",
    )
    image = models.ImageField(
        "lead image",
        upload_to="explainers/%Y/%m/",
        blank=True,
        width_field="image_width",
        height_field="image_height",
        validators=[FileExtensionValidator(["jpg", "jpeg", "png", "webp", "gif"])],
        help_text="Optional. JPEG, PNG, WebP or GIF, at most 5 MB.",
    )
    # Stored so the page can reserve the image's space before it loads.
    image_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    image_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    image_alt = models.CharField(
        "image description (alt text)",
        max_length=250,
        blank=True,
        help_text="Required with an image: what the picture shows, for readers who cannot see it.",
    )
    image_credit = models.CharField(
        "image credit",
        max_length=200,
        blank=True,
        help_text="Photographer and agency, e.g. “Jane Doe / Reuters”.",
    )
    status = models.CharField(
        "status", max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    published_at = models.DateTimeField(
        "published at",
        null=True,
        blank=True,
        help_text="Set when the explainer is first published; readers see this time.",
    )
    created_at = models.DateTimeField("created at", auto_now_add=True)
    updated_at = models.DateTimeField("updated at", auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="created by",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="updated by",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    version = models.PositiveIntegerField(
        "version",
        default=1,
        editable=False,
        help_text="Goes up by one with every saved change to the headline, sections or "
        "AI disclosure; ratings record the version they were given on.",
    )
    import_digest = models.CharField(
        "import fingerprint",
        max_length=64,
        blank=True,
        editable=False,
        help_text="Fingerprint of the text file this explainer was imported from.",
    )

    objects = ExplainerQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=("import_digest",))

    class Meta:
        ordering = ("-published_at", "-created_at")
        verbose_name = "explainer"
        verbose_name_plural = "explainers"
        indexes = [models.Index(fields=["status", "-published_at"], name="explainer_public_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="explainer_published_has_time",
                violation_error_message="A published explainer needs a publication time.",
            ),
            models.CheckConstraint(
                condition=Q(image="") | ~Q(image_alt=""),
                name="explainer_image_has_alt",
                violation_error_message="An image needs a description (alt text).",
            ),
            models.UniqueConstraint(
                fields=["import_digest"],
                condition=~Q(import_digest=""),
                name="explainer_unique_import_digest",
            ),
        ]

    def __str__(self):
        return self.headline

    def save(self, *args, **kwargs):
        loaded = getattr(self, "_loaded_content", None)
        if self.pk and loaded is not None and loaded != self._content():
            self.version += 1
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "version"}
        super().save(*args, **kwargs)
        self._loaded_content = self._content()

    def get_absolute_url(self):
        return reverse("explainers:detail", kwargs={"slug": self.slug})

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_content = instance._content()
        return instance

    @property
    def is_public(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )

    @property
    def summary(self) -> str:
        """The first sentence of What's Happening, as shown in lists."""
        return text.first_sentence(self.whats_happening)

    def _content(self) -> tuple | None:
        # Deferred fields (e.g. the home page's .only()) are unknown, not changed.
        deferred = self.get_deferred_fields()
        if deferred.intersection(CONTENT_FIELDS):
            return None
        return tuple(getattr(self, name) for name in CONTENT_FIELDS)

    def sections(self) -> list[tuple[str, str, list[str]]]:
        """(field, heading, paragraphs) for each section, in reading order."""
        return [
            (name, heading, text.paragraphs(getattr(self, name))) for name, heading, _ in SECTIONS
        ]


class Source(models.Model):
    explainer = models.ForeignKey(
        Explainer, verbose_name="explainer", on_delete=models.CASCADE, related_name="sources"
    )
    label = models.CharField(
        "label", max_length=200, help_text="The outlet and title, e.g. “Reuters: Envoy says…”."
    )
    url = models.URLField(
        "address",
        max_length=500,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="A full address starting with https:// or http://.",
    )
    position = models.PositiveSmallIntegerField("position", default=0)

    class Meta:
        ordering = ("position", "id")
        verbose_name = "source"
        verbose_name_plural = "sources"

    def __str__(self):
        return self.label
