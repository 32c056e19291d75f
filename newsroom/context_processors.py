"""What every template may name about the site itself."""

from django.conf import settings


def site(request) -> dict:
    return {"site_name": settings.SITE_NAME}
