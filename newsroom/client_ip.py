"""The client's address and what counts as one client: the one rule for the login lockout,
the audit log and the vote rate limit.

``REMOTE_ADDR`` by default. Behind proxies, ``FEEDBACK_CLIENT_IP_HEADER`` names the header
they append to (``X-Forwarded-For``) and ``FEEDBACK_PROXY_COUNT`` (1 when the header is set)
how many of them append: the client is the address that many places from the right. The
addresses to the left of it were written by the client, so they are never used.

A header with fewer entries than there are proxies came past at least one of them, and its
sender may have written every entry in it, the left-most included: trusting any of them would
let one sender rotate through endless fresh identities, or name someone else's address and
lock them out. The connection's own address is the one the sender cannot choose, so such a
request counts as it: at worst every such request is one client, and real readers, who come
through every proxy, are never among them.
"""

import ipaddress
import re

from django.conf import settings
from django.http import HttpRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_address(value: str) -> Address | None:
    """An address as a proxy writes it, or None when the text is no address.

    Some proxies write the port too ("203.0.113.7:41234", "[2001:db8::1]:41234"). An IPv6
    zone ("fe80::1%eth0") names an interface on the server, not the client, and PostgreSQL's
    inet type refuses it.
    """
    value = value.strip()
    if bracketed := re.fullmatch(r"\[([^\]]+)\](?::\d+)?", value):
        value = bracketed[1]
    elif re.fullmatch(r"[0-9.]+:\d+", value):
        value = value.rsplit(":", 1)[0]
    try:
        return ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        return None


def client_address(request: HttpRequest) -> Address | None:
    """The client's address, or None when the request carries no usable one."""
    remote = parse_address(request.META.get("REMOTE_ADDR", ""))
    header = settings.FEEDBACK_CLIENT_IP_HEADER
    if header:
        count = getattr(settings, "FEEDBACK_PROXY_COUNT", None) or 1
        forwarded = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
        hops = [hop for hop in forwarded.split(",") if hop.strip()]
        # An entry that is no address is a misconfigured proxy or a sender's junk: never a
        # new client, so the connection's address counts instead.
        if len(hops) >= count and (address := parse_address(hops[-count])) is not None:
            return address
    return remote


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as text (the audit log), or None when there is no usable one."""
    address = client_address(request)
    return str(address) if address is not None else None


def one_client(ip: Address) -> ipaddress.IPv4Address | ipaddress.IPv6Network:
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


def client(request: HttpRequest) -> ipaddress.IPv4Address | ipaddress.IPv6Network | None:
    """The client a request counts as, for the vote limit and the login lockout alike."""
    address = client_address(request)
    return one_client(address) if address is not None else None


def lockout_address(request: HttpRequest) -> str | None:
    """The address failed logins are counted against (django-axes' AXES_CLIENT_IP_CALLABLE).

    An IPv6 client is its /64, the block one home or one server is given, so that rotating
    addresses within it gives no fresh guesses.
    """
    counted = client(request)
    if counted is None:
        return None
    # django-axes stores an address: a /64 is kept as its first one.
    return str(getattr(counted, "network_address", counted))
