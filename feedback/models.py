from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

from explainers.models import Explainer

COMMENT_MAX_LENGTH = 600


class Reason(models.TextChoices):
    """Why a reader found an explainer not useful, in the words readers see."""

    MISSING_CONTEXT = "missing-context", "It was missing context or background"
    HARD_TO_UNDERSTAND = "hard-to-understand", "It was hard to understand"
    OUT_OF_DATE = "out-of-date", "It is out of date"
    INACCURATE = "inaccurate", "Something in it is wrong"
    TOO_LONG = "too-long", "It was too long"
    OTHER = "other", "Something else"


class Rating(models.Model):
    """One reader's answer to "Do you find this article useful?" for one explainer.

    The reader is known only by a keyed hash of a random cookie: voting again changes this
    row, so a reader is never counted twice, and nothing here identifies a person.
    """

    # No index of its own: the (explainer, reader) and (explainer, created_at) indexes below
    # serve every lookup by explainer, and each index costs every new vote a write.
    explainer = models.ForeignKey(
        Explainer,
        verbose_name="explainer",
        on_delete=models.CASCADE,
        related_name="ratings",
        db_index=False,
    )
    reader = models.CharField("reader", max_length=64, editable=False)
    useful = models.BooleanField("found it useful")
    reason = models.CharField(
        "what was wrong", max_length=32, choices=Reason.choices, blank=True, default=""
    )
    comment = models.TextField("comment", max_length=COMMENT_MAX_LENGTH, blank=True, default="")
    explainer_version = models.PositiveIntegerField(
        "explainer version", help_text="The explainer's version when the reader voted."
    )
    created_at = models.DateTimeField("created at", auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField("updated at", auto_now=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = "rating"
        verbose_name_plural = "ratings"
        permissions = [("export_rating", "Can export ratings as CSV")]
        indexes = [models.Index(fields=["explainer", "created_at"], name="rating_explainer_time")]
        constraints = [
            models.UniqueConstraint(fields=["explainer", "reader"], name="rating_one_per_reader"),
            models.CheckConstraint(
                condition=Q(reason__in=["", *Reason.values]),
                name="rating_reason_known",
                violation_error_message="Unknown reason.",
            ),
            models.CheckConstraint(
                condition=Q(reason="") | Q(useful=False),
                name="rating_reason_only_when_not_useful",
                violation_error_message="A reason is given only with a “no”.",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("comment"), COMMENT_MAX_LENGTH),
                name="rating_comment_length",
            ),
        ]

    def __str__(self):
        return f"{'Yes' if self.useful else 'No'} on “{self.explainer}”"
