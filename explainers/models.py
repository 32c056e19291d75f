from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import FileExtensionValidator, MaxValueValidator, URLValidator
from django.db import models
from django.db.models import Q
from django.db.models.fields.files import FieldFile
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from . import images, text

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
# What an explainer imported without a usable headline carries until an editor writes one;
# it is never published (workflow.py).
HEADLINE_PLACEHOLDER = "[Headline needed]"
# Everything of an explainer that reaches a reader. A change to any of these is a new
# version: readers see it only once an editor publishes that version.
# The lead image as readers get it: the file, its words and its crop.
IMAGE_FIELDS = (
    "image",
    "image_alt",
    "image_credit",
    "image_ai_generated",
    "image_focal_x",
    "image_focal_y",
)
VERSIONED_FIELDS = (
    "headline",
    "slug",
    *SECTION_FIELDS,
    "ai_generated",
    "topic",
    *IMAGE_FIELDS,
    "source_list",
)
# The AI-drafted text an editor signs off. Only a change to these voids the sign-off: the
# image has its own AI flag, which only an editor may clear.
SIGNED_OFF_FIELDS = ("headline", *SECTION_FIELDS)


class ExplainerContent:
    """Reading helpers shared by an explainer (the working copy) and each of its revisions.

    Reader pages take everything they show from one of these: the approved revision for
    readers, the working copy in previews.
    """

    def get_absolute_url(self):
        return reverse("explainers:detail", kwargs={"slug": self.slug})

    @property
    def lead_image(self) -> FieldFile | None:
        """The lead image as a file with a ``url``; revisions store only its name."""
        if not self.image:
            return None
        if isinstance(self.image, FieldFile):
            return self.image
        return FieldFile(self, Explainer._meta.get_field("image"), self.image)

    @property
    def source_links(self) -> list[dict]:
        """The sources readers see, in order: ``{"label": …, "url": …}``."""
        return self.source_list

    @property
    def summary(self) -> str:
        """The first sentence of What's Happening, as shown in lists; the second when the
        first is the headline (as an imported one may be), which readers just read."""
        first, rest = text.split_first_sentence(self.whats_happening)
        if rest.strip() and first == " ".join(self.headline.split()):
            return text.first_sentence(rest)
        return first

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
    def published(self, now=None):
        """What readers may see: approved text whose publication time has come and not gone.

        Decided at query time, so a scheduled explainer appears (and an expiring one goes)
        on time with no job to run. ``now`` is for a query compiled once and run later.
        """
        now = now or timezone.now()
        return self.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now),
            status=Explainer.Status.PUBLISHED,
            live_revision__isnull=False,
            published_at__lte=now,
        )

    def with_public_revision(self):
        """Load both approved revisions, so ``public_revision`` costs no further query."""
        return self.select_related("live_revision__topic", "scheduled_revision__topic")

    def public_filter(self, now=None, **lookups):
        """Filter on the revision readers get now, e.g. ``public_filter(slug="x")``.

        Scheduled changes count from their time on, so the switch needs no job to run.
        """
        due = Q(scheduled_at__lte=now or timezone.now())
        scheduled = Q(**{f"scheduled_revision__{key}": value for key, value in lookups.items()})
        live = Q(**{f"live_revision__{key}": value for key, value in lookups.items()})
        return self.filter((due & scheduled) | (~due & live))


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
        help_text="The last part of the address, as in /explainers/this-part/. Lower-case letters, "
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
        # A random name: drafts' and replaced images' addresses cannot be guessed.
        upload_to=images.upload_path,
        blank=True,
        width_field="image_width",
        height_field="image_height",
        validators=[FileExtensionValidator(["jpg", "jpeg", "png", "webp", "gif"])],
        help_text="Optional. JPEG, PNG, WebP or GIF, at least 1200 pixels wide. Readers get "
        "copies sized for their screen.",
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
    image_ai_generated = models.BooleanField(
        "AI-generated image",
        default=False,
        help_text="Tick when a model made the picture (or changed what it shows). Readers see "
        "“AI-generated image” under it, and its files and the page's data say so.",
    )
    # Where the picture's subject is, in percent of its width and height: crops keep it.
    image_focal_x = models.PositiveSmallIntegerField(
        "focal point across (%)",
        default=50,
        validators=[MaxValueValidator(100)],
        help_text="From the left edge (0) to the right edge (100).",
    )
    image_focal_y = models.PositiveSmallIntegerField(
        "focal point down (%)",
        default=50,
        validators=[MaxValueValidator(100)],
        help_text="From the top (0) to the bottom (100).",
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
    source_list = models.JSONField(
        "sources",
        default=list,
        blank=True,
        editable=False,
        help_text="The sources of this version as readers see them: label and address, "
        "in order. Kept in step with the Sources rows edited below the form.",
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
    scheduled_revision = models.ForeignKey(
        "HistoricalExplainer",
        verbose_name="scheduled revision",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        help_text="An approved revision that replaces the live one at “scheduled at”.",
    )
    scheduled_at = models.DateTimeField(
        "changes scheduled for",
        null=True,
        blank=True,
        editable=False,
        help_text="When readers switch from the live revision to the scheduled one.",
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
        help_text="Goes up by one with every saved change to what readers see (text, AI "
        "disclosure, slug, topic, image, sources); ratings record the version they were "
        "given on.",
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
        excluded_fields=("import_digest", "live_revision", "scheduled_revision", "scheduled_at"),
        bases=[ExplainerContent, models.Model],
    )

    class Meta:
        ordering = ("-published_at", "-created_at")
        verbose_name = "explainer"
        verbose_name_plural = "explainers"
        indexes = [
            models.Index(fields=["status", "-published_at"], name="explainer_public_idx"),
            # For the next time alone changes a page (page_cache.next_change): each of these
            # finds its earliest future time by reading one index entry.
            models.Index(
                fields=["expires_at"],
                condition=Q(expires_at__isnull=False),
                name="explainer_expiry_idx",
            ),
            models.Index(
                fields=["scheduled_at"],
                condition=Q(scheduled_revision__isnull=False),
                name="explainer_scheduled_idx",
            ),
        ]
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
            models.CheckConstraint(
                condition=Q(image_focal_x__lte=100, image_focal_y__lte=100),
                name="explainer_focal_point_in_image",
                violation_error_message="The focal point must lie within the image (0 to 100%).",
            ),
            models.UniqueConstraint(
                fields=["import_digest"],
                condition=~Q(import_digest=""),
                name="explainer_unique_import_digest",
            ),
            models.CheckConstraint(
                condition=Q(scheduled_revision__isnull=True) | Q(scheduled_at__isnull=False),
                name="explainer_scheduled_revision_has_time",
                violation_error_message="Scheduled changes need a time.",
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
            ("hide_notice", "Can hide a published notice (with a reason)"),
        ]

    def __str__(self):
        return self.headline

    def save(self, *args, **kwargs):
        if getattr(self, "skip_history_when_saving", False):
            # Not a revision yet (the admin saves the sources next): no new version either.
            return super().save(*args, **kwargs)
        loaded = getattr(self, "_loaded_content", None)
        if self.pk and loaded is not None and loaded != self._content():
            keeps_sign_off = self.is_signed_off and not self._text_changed()
            self.version += 1
            changed = {"version"}
            if keeps_sign_off:
                # The editor signed off this very text; it stands for the new version.
                self.reviewed_version = self.version
                changed.add("reviewed_version")
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], *changed}
        super().save(*args, **kwargs)
        self._loaded_content = self._content()

    def get_absolute_url(self):
        """The address readers reach it at: the published slug once there is one."""
        return reverse("explainers:detail", kwargs={"slug": self.public_slug})

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_content = instance._content()
        return instance

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        self._loaded_content = self._content()

    @property
    def public_revision(self):
        """The approved revision readers get now: scheduled changes once their time comes."""
        if self.scheduled_revision_id and self.scheduled_at <= timezone.now():
            return self.scheduled_revision
        return self.live_revision

    @property
    def reader_updated_at(self):
        """When readers' version last changed: a publication, scheduled changes, a notice."""
        revision = self.public_revision if self.live_revision_id else None
        updated = self.public_updated_at or self.published_at
        if revision is not None and revision is self.scheduled_revision:
            updated = max(updated or self.scheduled_at, self.scheduled_at)
        return updated

    @property
    def public_slug(self) -> str:
        revision = self.public_revision if self.live_revision_id else None
        return revision.slug if revision is not None else self.slug

    @property
    def is_public(self) -> bool:
        """Readers can see it now: asked of published(), the one definition of that."""
        return Explainer.objects.published().filter(pk=self.pk).exists()

    @property
    def is_scheduled(self) -> bool:
        """A first publication, or changes to a live explainer, wait for a future time."""
        now = timezone.now()
        if self.scheduled_revision_id and self.scheduled_at > now:
            return True
        return self.status == self.Status.PUBLISHED and bool(
            self.published_at and self.published_at > now
        )

    @property
    def scheduled_for(self):
        """The time readers get the next approved version, if one is scheduled."""
        now = timezone.now()
        if self.scheduled_revision_id and self.scheduled_at > now:
            return self.scheduled_at
        if self.status == self.Status.PUBLISHED and self.published_at and self.published_at > now:
            return self.published_at
        return None

    @property
    def is_signed_off(self) -> bool:
        """An editor signed off the current text (AI text needs this before publishing)."""
        return self.reviewed_version is not None and self.reviewed_version == self.version

    @property
    def approved_version(self) -> int | None:
        """The newest version an editor published, whether readers have it yet or not."""
        if self.scheduled_revision_id:
            return self.scheduled_revision.version
        return self.live_revision.version if self.live_revision_id else None

    @property
    def has_pending_changes(self) -> bool:
        """Something readers would see was edited since the last approved version."""
        return bool(self.pending_fields())

    @property
    def live_version(self) -> int | None:
        """The version readers see now."""
        revision = self.public_revision if self.live_revision_id else None
        return revision.version if revision is not None else None

    def pending_fields(self) -> list[str]:
        """Names of what changed since the last approved version, in the form's order."""
        if self.live_revision_id is None or self.approved_version == self.version:
            return []
        approved = self.scheduled_revision if self.scheduled_revision_id else self.live_revision
        return [
            str(self._meta.get_field(name).verbose_name)
            for name in VERSIONED_FIELDS
            if version_value(approved, name) != version_value(self, name)
        ]

    def stored(self, name: str):
        """A versioned field's value as last loaded from or saved to the database."""
        loaded = getattr(self, "_loaded_content", None)
        return None if loaded is None else loaded[VERSIONED_FIELDS.index(name)]

    def _text_changed(self) -> bool:
        """The signed-off text differs from what was last loaded or saved."""
        return any(self.stored(name) != version_value(self, name) for name in SIGNED_OFF_FIELDS)

    def _content(self) -> tuple | None:
        # Deferred fields (e.g. a list's .only()) are unknown, not changed.
        deferred = self.get_deferred_fields()
        if any(self._meta.get_field(name).attname in deferred for name in VERSIONED_FIELDS):
            return None
        return tuple(version_value(self, name) for name in VERSIONED_FIELDS)


def version_value(obj, name: str):
    """A versioned field's value, comparable between an explainer and its revisions."""
    if name == "topic":
        return obj.topic_id
    value = getattr(obj, name)
    if name == "image":
        return getattr(value, "name", value) or ""
    if name in SECTION_FIELDS:
        # Text a browser saved before the admin stored its line breaks as LF reads the same.
        return text.unix_newlines(value) if value else value
    return value


class RenditionSet(models.Model):
    """The files readers get for one lead image, as one or more versions show it.

    Keyed by everything the files depend on (the original, focal point, credit, AI flag and
    the rendition settings), so a set is made once and shared by the versions that show the
    image alike. The files live under ``renditions/<token>/``: nobody can guess that, and a
    set made again after being withdrawn gets a new token, hence new addresses.
    ``explainers.renditions`` makes, finds and deletes sets.
    """

    explainer = models.ForeignKey(
        Explainer,
        verbose_name="explainer",
        on_delete=models.CASCADE,
        related_name="rendition_sets",
    )
    source_key = models.CharField("source key", max_length=64, unique=True)
    token = models.CharField("token", max_length=32, unique=True)
    image = models.CharField("original", max_length=255)
    files = models.JSONField(
        "files",
        default=list,
        help_text="Each file: name, kind (w for a width, else the crop's ratio), format, "
        "width and height.",
    )
    created_at = models.DateTimeField("made at", auto_now_add=True)

    class Meta:
        verbose_name = "rendition set"
        verbose_name_plural = "rendition sets"

    def __str__(self):
        return f"Renditions of {self.image}"


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
        AI_LABEL_REMOVED = "ai_label_removed", "AI label removed"
        PREVIEWS_REVOKED = "previews_revoked", "Preview links revoked"

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


class NoticeQuerySet(models.QuerySet):
    def visible(self):
        """What readers see: every notice an administrator has not hidden, oldest first."""
        return self.filter(hidden_at__isnull=True).order_by("created_at", "id")


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

    objects = NoticeQuerySet.as_manager()

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


class PreviewLinkQuerySet(models.QuerySet):
    def active(self):
        """Links that still work: neither revoked nor expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


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

    objects = PreviewLinkQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at",)
        verbose_name = "preview link"
        verbose_name_plural = "preview links"

    def __str__(self):
        return f"Preview of “{self.explainer}” ({self.label or 'unlabelled'})"


class NotificationPreference(models.Model):
    """Which workflow emails one person gets; without a row, all that fit their role."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="user",
        on_delete=models.CASCADE,
        related_name="notification_preference",
    )
    submitted = models.BooleanField(
        "an explainer is submitted for review", default=True, help_text="For editors."
    )
    signoff_needed = models.BooleanField(
        "AI text needs a sign-off", default=True, help_text="For editors who sign off AI text."
    )
    sent_back = models.BooleanField(
        "my explainer is sent back to draft",
        default=True,
        help_text="For writers: with the editor's comment.",
    )
    published = models.BooleanField(
        "my explainer is published or scheduled", default=True, help_text="For writers."
    )

    class Meta:
        verbose_name = "notification preference"
        verbose_name_plural = "notification preferences"

    def __str__(self):
        return f"Notifications for {self.user}"


class UndeliveredNotification(models.Model):
    """A workflow email the mail server refused; the editors' home page shows these."""

    created_at = models.DateTimeField("at", default=timezone.now, db_index=True)
    subject = models.CharField("subject", max_length=300)
    recipients = models.TextField("to")
    error = models.TextField("error")

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = "undelivered notification"
        verbose_name_plural = "undelivered notifications"

    def __str__(self):
        return self.subject


class SearchEntry(models.Model):
    """The searchable text of one approved revision, written when an editor publishes it.

    Drafts and pending edits are never indexed. Searches keep only the entries of the
    revision each published explainer shows now (``public_filter``), so an entry of a
    revision readers no longer get, or do not get yet, never matches. On PostgreSQL
    ``vector`` holds the weighted text (headline A, What's Happening B, the rest C) under
    a GIN index; on SQLite an FTS5 table keyed by the revision holds the text instead.
    """

    revision = models.OneToOneField(
        "HistoricalExplainer",
        verbose_name="revision",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    explainer = models.ForeignKey(
        Explainer, verbose_name="explainer", on_delete=models.CASCADE, related_name="+"
    )
    published_at = models.DateTimeField("first published at", null=True)
    vector = SearchVectorField("search vector", null=True, editable=False)

    class Meta:
        verbose_name = "search entry"
        verbose_name_plural = "search entries"

    def __str__(self):
        return f"Search entry of revision {self.revision_id}"


class SearchWord(models.Model):
    """A word of published text: what a misspelt search is compared with to suggest one."""

    word = models.CharField("word", max_length=40, unique=True)

    class Meta:
        verbose_name = "search word"
        verbose_name_plural = "search words"

    def __str__(self):
        return self.word
