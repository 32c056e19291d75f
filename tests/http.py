"""What tests read off HTTP responses."""


def max_age(response, header: str = "Cache-Control") -> int:
    """The ``max-age`` of ``header`` (Cache-Control, Surrogate-Control, CDN-Cache-Control)."""
    for part in response[header].split(","):
        name, _, value = part.strip().partition("=")
        if name == "max-age":
            return int(value)
    raise AssertionError(f"no max-age in {response[header]!r}")
