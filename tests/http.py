"""What tests read off HTTP responses, and how they have a stored page rendered again."""


def max_age(response, header: str = "Cache-Control") -> int:
    """The ``max-age`` of ``header`` (Cache-Control, Surrogate-Control, CDN-Cache-Control)."""
    for part in response[header].split(","):
        name, _, value = part.strip().partition("=")
        if name == "max-age":
            return int(value)
    raise AssertionError(f"no max-age in {response[header]!r}")


def forget_page(path: str) -> None:
    """Drop the page cache's copy of ``path`` (no query): the next request for it renders it."""
    from django.core.cache import cache

    from explainers import page_cache

    cache.delete(page_cache.cache_key(path, {}))
