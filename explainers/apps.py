from django.apps import AppConfig


class ExplainersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "explainers"

    def ready(self):
        from . import (  # noqa: F401
            dashboard,  # registers the writers' and editors' panels
            search,  # connects the search pages' cache invalidation
            signals,  # connects the page-cache invalidation
        )
