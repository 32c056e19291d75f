"""The client's address, by the same rule as the vote rate limit.

``REMOTE_ADDR`` by default. Behind proxies, ``FEEDBACK_CLIENT_IP_HEADER`` names the header
they append to (``X-Forwarded-For``) and ``FEEDBACK_PROXY_COUNT`` (1 when the header is set)
how many of them append: the client is the address that many places from the right. The
addresses to the left of it were written by the client, so they are never used.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    # An IPv6 zone ("fe80::1%eth0") names an interface on the server, not the client, and
    # PostgreSQL's inet type refuses it.
    try:
        return ipaddress.ip_address(value.strip().split("%", 1)[0])
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as text, or None when the request carries no usable one."""
    remote = _address(request.META.get("REMOTE_ADDR", ""))
    header = settings.FEEDBACK_CLIENT_IP_HEADER
    if header:
        count = getattr(settings, "FEEDBACK_PROXY_COUNT", None) or 1
        forwarded = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
        hops = [hop for hop in forwarded.split(",") if hop.strip()]
        # Fewer hops than proxies: the request did not come the way the proxies send it, so
        # nothing in the header can be trusted; the connection's address can.
        if len(hops) >= count and (address := _address(hops[-count])) is not None:
            remote = address
    return str(remote) if remote is not None else None


def one_client(ip: ipaddress.IPv4Address | ipaddress.IPv6Address):
    """What one client controls around ``ip``: an IPv4 address, or an IPv6 /64.

    One home or server is given a whole /64; an IPv6 address that carries an IPv4 one
    (IPv4-mapped, 6to4's /48, Teredo) belongs to whoever holds that IPv4 address, so each of
    those counts as it, or one IPv4 address would be 65,536 clients.
    """
    if ip.version == 4:
        return ip
    embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
    if embedded is not None:
        return embedded
    return ipaddress.IPv6Network((ip, 64), strict=False)


def lockout_address(request: HttpRequest) -> str | None:
    """The address failed logins are counted against (django-axes' AXES_CLIENT_IP_CALLABLE).

    An IPv6 client is its /64, the block one home or one server is given, so that rotating
    addresses within it gives no fresh guesses.
    """
    address = client_ip(request)
    if address is None:
        return None
    client = one_client(ipaddress.ip_address(address))
    # django-axes stores an address: a /64 is kept as its first one.
    return str(getattr(client, "network_address", client))
