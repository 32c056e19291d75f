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


class ExplainerContent:
    """Reading helpers shared by an explainer and each of its revisions."""

    @property
    def summary(self) -> str:
        """The first sentence of What's Happening, as shown in lists."""
        return text.first_sentence(self.whats_happening)

    def sections(self) -> list[tuple[str, str, list[str]]]:
        """(field, heading, paragraphs) for each section, in reading order."""
        return [
            (name, heading, text.paragraphs(getattr(self, name))) for name, heading, _ in SECTIONS
        ]


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
        """What readers may see: approved text whose publication time has come and not gone.

        Decided at query time, so a scheduled explainer appears (and an expiring one goes)
        on time with no job to run.
        """
        now = timezone.now()
        return self.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now),
            status=Explainer.Status.PUBLISHED,
            live_revision__isnull=False,
            published_at__lte=now,
        )


class Explainer(ExplainerContent, models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        PUBLISHED = "published", "Published"
        UNPUBLISHED = "unpublished", "Unpublished"
        ARCHIVED = "archived", "Archived"

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
        help_text="When readers first see it. A future time schedules the publication.",
    )
    expires_at = models.DateTimeField(
        "expires at",
        null=True,
        blank=True,
        help_text="Optional. Readers stop seeing the explainer at this time.",
    )
    live_revision = models.ForeignKey(
        "HistoricalExplainer",
        verbose_name="live revision",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        help_text="The approved revision readers see; later edits wait until published.",
    )
    public_updated_at = models.DateTimeField(
        "updated for readers at",
        null=True,
        blank=True,
        editable=False,
        help_text="When readers' version last changed: a new version published or a notice.",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="AI text signed off by",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(
        "AI text signed off at", null=True, blank=True, editable=False
    )
    reviewed_version = models.PositiveIntegerField(
        "signed-off version",
        null=True,
        blank=True,
        editable=False,
        help_text="The version an editor signed off; any later change to the text voids it.",
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
    history = HistoricalRecords(
        excluded_fields=("import_digest", "live_revision"),
        bases=[ExplainerContent, models.Model],
    )

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
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True)
                | Q(published_at__isnull=True)
                | Q(expires_at__gt=models.F("published_at")),
                name="explainer_expires_after_publication",
                violation_error_message="The expiry time must come after the publication time.",
            ),
        ]
        permissions = [
            ("publish_explainer", "Can publish, schedule and unpublish explainers"),
            ("review_explainer", "Can approve explainers or send them back"),
            ("signoff_explainer", "Can sign off AI-generated text"),
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
        """Readers can see it now: asked of published(), the one definition of that."""
        return Explainer.objects.published().filter(pk=self.pk).exists()

    @property
    def is_scheduled(self) -> bool:
        return self.status == self.Status.PUBLISHED and bool(
            self.published_at and self.published_at > timezone.now()
        )

    @property
    def is_signed_off(self) -> bool:
        """An editor signed off the current text (AI text needs this before publishing)."""
        return self.reviewed_version is not None and self.reviewed_version == self.version

    @property
    def has_pending_changes(self) -> bool:
        """The text was edited since the version readers see."""
        return self.live_revision_id is not None and self.live_version != self.version

    @property
    def live_version(self) -> int | None:
        return self.live_revision.version if self.live_revision_id else None

    def _content(self) -> tuple | None:
        # Deferred fields (e.g. the home page's .only()) are unknown, not changed.
        deferred = self.get_deferred_fields()
        if deferred.intersection(CONTENT_FIELDS):
            return None
        return tuple(getattr(self, name) for name in CONTENT_FIELDS)


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


class WorkflowEvent(models.Model):
    """One step in an explainer's editorial life: who moved it where, when, and why."""

    class Action(models.TextChoices):
        SUBMITTED = "submitted", "Submitted for review"
        SENT_BACK = "sent_back", "Sent back to draft"
        SIGNED_OFF = "signed_off", "AI text signed off"
        PUBLISHED = "published", "Published"
        SCHEDULED = "scheduled", "Scheduled"
        UNPUBLISHED = "unpublished", "Unpublished"
        ARCHIVED = "archived", "Archived"
        RESTORED = "restored", "Revision restored as a draft"
        NOTICE = "notice", "Notice added"

    explainer = models.ForeignKey(
        Explainer, verbose_name="explainer", on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField("action", max_length=20, choices=Action.choices)
    from_status = models.CharField("from", max_length=20, choices=Explainer.Status.choices)
    to_status = models.CharField("to", max_length=20, choices=Explainer.Status.choices)
    version = models.PositiveIntegerField("version")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="by",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    comment = models.TextField("comment", blank=True)
    created_at = models.DateTimeField("at", default=timezone.now, db_index=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = "workflow event"
        verbose_name_plural = "workflow events"

    def __str__(self):
        return f"{self.get_action_display()}: {self.explainer}"


class SlugRedirect(models.Model):
    """An address an explainer used to have; it answers with a permanent redirect."""

    old_slug = models.SlugField("old slug", max_length=100, unique=True)
    explainer = models.ForeignKey(
        Explainer, verbose_name="explainer", on_delete=models.CASCADE, related_name="redirects"
    )
    created_at = models.DateTimeField("created at", auto_now_add=True)

    class Meta:
        verbose_name = "slug redirect"
        verbose_name_plural = "slug redirects"

    def __str__(self):
        return f"/explainers/{self.old_slug}/ → {self.explainer.slug}"


class Notice(models.Model):
    """A correction, clarification, update or editor's note on a published explainer.

    Append-only: once added, a notice is never edited or deleted. An administrator can
    hide one, and the reason is kept.
    """

    class Kind(models.TextChoices):
        CORRECTION = "correction", "Correction"
        CLARIFICATION = "clarification", "Clarification"
        UPDATE = "update", "Update"
        EDITORS_NOTE = "editors_note", "Editor's note"

    explainer = models.ForeignKey(
        Explainer, verbose_name="explainer", on_delete=models.PROTECT, related_name="notices"
    )
    kind = models.CharField("kind", max_length=20, choices=Kind.choices)
    text = models.TextField(
        "text", help_text="What was wrong and what is right now, in plain words."
    )
    created_at = models.DateTimeField("published at", default=timezone.now, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="added by",
        on_delete=models.PROTECT,
        related_name="+",
    )
    hidden_at = models.DateTimeField("hidden at", null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="hidden by",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    hidden_reason = models.TextField("why it was hidden", blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = "notice"
        verbose_name_plural = "notices"
        constraints = [
            models.CheckConstraint(
                condition=Q(hidden_at__isnull=True) | ~Q(hidden_reason=""),
                name="notice_hidden_has_reason",
                violation_error_message="Say why the notice is hidden.",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} on “{self.explainer}”"


class PreviewLink(models.Model):
    """A revocable, expiring link that shows a draft to someone without an account.

    Only a hash of the token is stored: the link itself is shown once, to its creator.
    """

    explainer = models.ForeignKey(
        Explainer, verbose_name="explainer", on_delete=models.CASCADE, related_name="preview_links"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    label = models.CharField(
        "shared with", max_length=120, blank=True, help_text="Who the link is for, as a reminder."
    )
    expires_at = models.DateTimeField("expires at")
    revoked_at = models.DateTimeField("revoked at", null=True, blank=True)
    created_at = models.DateTimeField("created at", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="created by",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )

    class Meta:
        ordering = ("-created_at",)
        verbose_name = "preview link"
        verbose_name_plural = "preview links"

    def __str__(self):
        return f"Preview of “{self.explainer}” ({self.label or 'unlabelled'})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
