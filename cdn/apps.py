from django.apps import AppConfig


class CdnConfig(AppConfig):
    """Purging a CDN of the pages a change affects, through an outbox a worker empties."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "cdn"
    verbose_name = "CDN purging"

    def ready(self):
        from explainers import page_cache

        from . import outbox

        page_cache.keys_changed.connect(outbox.enqueue, dispatch_uid="cdn-enqueue")
