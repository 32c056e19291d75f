from django.apps import AppConfig


class ExplainersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "explainers"

    def ready(self):
        from . import signals  # noqa: F401  (connects the page-cache invalidation)
