from django.apps import AppConfig


class ExplainersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "explainers"

    def ready(self):
        from django.conf import settings
        from PIL import Image

        from . import (  # noqa: F401
            dashboard,  # registers the writers' and editors' panels
            search,  # connects the search pages' cache invalidation
            signals,  # connects the page-cache invalidation
        )

        # Pillow refuses to open images beyond this (a decompression bomb), wherever they come
        # from; uploads are also checked against the setting itself (explainers/images.py).
        Image.MAX_IMAGE_PIXELS = settings.MAX_IMAGE_PIXELS
