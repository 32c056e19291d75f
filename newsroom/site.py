"""The site's own address (NEWSROOM_SITE_URL), for the absolute links pages carry."""

from urllib.parse import urljoin

from django.conf import settings
from django.utils.encoding import iri_to_uri


def absolute_url(location: str) -> str:
    """``location`` (a path, or a full URL such as a storage may give) at the site's address.

    Never at the request's Host: the client writes that header, so a page built from it would
    show whatever host and port a request named, and each would be cached apart.
    """
    return iri_to_uri(urljoin(settings.SITE_URL + "/", location))
