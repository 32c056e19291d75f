"""Purge backends: one small class per CDN behind one interface, chosen by NEWSROOM_PURGE_BACKEND.

Each purges pages by surrogate key (``Surrogate-Key``/``Cache-Tag``, see explainers/page_cache)
and raises PurgeError when the CDN did not confirm, so the outbox tries again later.
"""

import json
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence

from django.conf import settings
from django.utils.module_loading import import_string

TIMEOUT_SECONDS = 10
# No proxies from the environment: the purge goes straight to the configured address.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class PurgeError(Exception):
    """The CDN did not confirm the purge; the keys stay queued."""


def chunks(keys: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(keys), size):
        yield list(keys[start : start + size])


def send(url: str, *, method: str = "POST", headers: dict, body: bytes | None = None) -> bytes:
    """The body of a 2xx answer to the request, or PurgeError saying what went wrong."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with OPENER.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:500].decode(errors="replace")
        raise PurgeError(f"{method} {url} answered {exc.code}: {detail}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise PurgeError(f"{method} {url} failed: {exc}") from exc


class PurgeBackend:
    """Purges pages tagged with any of ``keys``; ``max_keys`` a call, as the API allows."""

    max_keys = 100

    def purge(self, keys: Sequence[str]) -> None:
        for batch in chunks(sorted(keys), self.max_keys):
            self.purge_batch(batch)

    def purge_batch(self, keys: list[str]) -> None:
        raise NotImplementedError


class VarnishBackend(PurgeBackend):
    """Varnish with the xkey module (deploy/varnish/newsroom.vcl): ``PURGE`` with ``xkey-purge``.

    Every address in NEWSROOM_VARNISH_URLS (one per Varnish server) is purged.
    """

    def __init__(self, urls: Sequence[str] | None = None):
        self.urls = list(urls if urls is not None else settings.VARNISH_URLS)

    def purge_batch(self, keys):
        for url in self.urls:
            send(url.rstrip("/") + "/", method="PURGE", headers={"xkey-purge": " ".join(keys)})


class FastlyBackend(PurgeBackend):
    """Fastly's purge by surrogate key: POST /service/{id}/purge, up to 256 keys a call."""

    max_keys = 256

    def purge_batch(self, keys):
        url = f"{settings.FASTLY_API_URL.rstrip('/')}/service/{settings.FASTLY_SERVICE_ID}/purge"
        headers = {
            "Fastly-Key": settings.FASTLY_API_TOKEN,
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        send(url, headers=headers, body=json.dumps({"surrogate_keys": keys}).encode())


class CloudflareBackend(PurgeBackend):
    """Cloudflare's purge by cache tag: POST /zones/{id}/purge_cache, 30 tags a call."""

    max_keys = 30

    def purge_batch(self, keys):
        api = settings.CLOUDFLARE_API_URL.rstrip("/")
        url = f"{api}/client/v4/zones/{settings.CLOUDFLARE_ZONE_ID}/purge_cache"
        headers = {
            "Authorization": f"Bearer {settings.CLOUDFLARE_API_TOKEN}",
            "Content-Type": "application/json",
        }
        answer = send(url, headers=headers, body=json.dumps({"tags": keys}).encode())
        try:
            success = json.loads(answer).get("success") is True
        except (ValueError, AttributeError):
            success = False
        if not success:
            raise PurgeError(f"Cloudflare did not confirm the purge: {answer[:500]!r}")


BACKENDS = {
    "varnish": "cdn.backends.VarnishBackend",
    "fastly": "cdn.backends.FastlyBackend",
    "cloudflare": "cdn.backends.CloudflareBackend",
}


def configured_backend() -> PurgeBackend | None:
    """The backend NEWSROOM_PURGE_BACKEND names, or None when purging is off."""
    if not settings.PURGE_BACKEND:
        return None
    return import_string(BACKENDS[settings.PURGE_BACKEND])()
