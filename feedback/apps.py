from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "feedback"

    def ready(self):
        from . import (  # noqa: F401
            checks,  # registers the rate-limit deployment check
            dashboard,  # registers the analysts' panels
        )
