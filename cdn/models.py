from django.db import models
from django.utils import timezone


class PurgeRequest(models.Model):
    """Surrogate keys a committed change affects, waiting for ``run_purger`` to purge them."""

    keys = models.JSONField("surrogate keys", help_text="The keys to purge, e.g. explainer-12.")
    created_at = models.DateTimeField("queued at", default=timezone.now)
    attempts = models.PositiveIntegerField("failed attempts", default=0)
    next_attempt_at = models.DateTimeField("next attempt at", default=timezone.now)
    last_error = models.TextField("last error", blank=True)

    class Meta:
        ordering = ("id",)
        verbose_name = "purge request"
        verbose_name_plural = "purge requests"
        indexes = [models.Index(fields=["next_attempt_at", "id"], name="purge_due_idx")]

    def __str__(self):
        return " ".join(self.keys)
