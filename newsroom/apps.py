from django.apps import AppConfig

from . import prepared, startup


class NewsroomConfig(AppConfig):
    """The project itself, as an app: its template tags (the admin's home page)."""

    default = True
    name = "newsroom"

    def ready(self):
        # Every model is loaded by now: the apps after this one only connect receivers.
        startup.resume()
        prepared.keep_long_statements()
