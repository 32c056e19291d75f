import pytest
from django.test import RequestFactory

from newsroom.client_ip import client_ip, lockout_address, parse_address


def request(remote="198.51.100.1", forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.fixture
def behind_proxy(settings):
    settings.FEEDBACK_CLIENT_IP_HEADER = "X-Forwarded-For"
    return settings


def test_the_connection_address_by_default(settings):
    """Without a configured header, a forwarded address is ignored."""
    settings.FEEDBACK_CLIENT_IP_HEADER = ""
    assert client_ip(request(forwarded="192.0.2.9")) == "198.51.100.1"


def test_behind_one_proxy_the_rightmost_address(behind_proxy):
    """The proxy appends the address it saw; whatever the client wrote before it is ignored."""
    assert client_ip(request("10.0.0.2", "192.0.2.9, 203.0.113.5")) == "203.0.113.5"


def test_behind_two_proxies_the_second_from_the_right(behind_proxy):
    """FEEDBACK_PROXY_COUNT=2: the address two places from the right."""
    behind_proxy.FEEDBACK_PROXY_COUNT = 2
    assert client_ip(request("10.0.0.2", "192.0.2.9, 203.0.113.5, 10.0.0.1")) == "203.0.113.5"


def test_fewer_addresses_than_proxies_uses_the_connection(behind_proxy):
    """A request that did not come through every proxy: nothing in the header is trusted."""
    behind_proxy.FEEDBACK_PROXY_COUNT = 2
    assert client_ip(request("10.0.0.2", "192.0.2.9")) == "10.0.0.2"


@pytest.mark.parametrize("forwarded", ["", "not-an-address", "203.0.113.5:port", " , "])
def test_an_unusable_header_uses_the_connection(behind_proxy, forwarded):
    """A missing, empty or malformed header falls back to the connection's address."""
    assert client_ip(request("10.0.0.2", forwarded)) == "10.0.0.2"


def test_fewer_addresses_than_proxies_never_uses_the_left_most(behind_proxy):
    """Past a bypassed proxy the sender may have written every entry: the connection counts."""
    behind_proxy.FEEDBACK_PROXY_COUNT = 3
    assert client_ip(request("10.0.0.2", "203.0.113.7, 198.51.100.1")) == "10.0.0.2"


def test_an_address_with_a_port_is_that_address():
    """Proxies that write a port ("203.0.113.7:4711", "[2001:db8::1]:80") name the address."""
    assert str(parse_address("203.0.113.7:4711")) == "203.0.113.7"
    assert str(parse_address("[2001:db8::1]:80")) == "2001:db8::1"
    assert str(parse_address("[2001:db8::1]")) == "2001:db8::1"
    assert parse_address("[::1") is None


def test_a_port_written_by_the_proxy_is_the_client(behind_proxy):
    """A proxy-written "address:port" is that client, not the proxy everyone shares."""
    assert client_ip(request("10.0.0.2", "192.0.2.9, 203.0.113.5:443")) == "203.0.113.5"


def test_missing_header_counts_the_connection(behind_proxy):
    """Without the header (a request that reached the application directly) REMOTE_ADDR counts."""
    assert client_ip(request("203.0.113.7")) == "203.0.113.7"
    assert client_ip(request("203.0.113.7", " , ,")) == "203.0.113.7"


def test_no_usable_address_at_all_is_none():
    """No address is better than a made-up one."""
    assert client_ip(request(remote="")) is None


def test_ipv6_failures_count_per_slash_64():
    """Two addresses of one /64 are one client to the login lockout."""
    first = lockout_address(request("2001:db8:1:2::1"))
    second = lockout_address(request("2001:db8:1:2:abcd:ef01:2345:6789"))
    assert first == second == "2001:db8:1:2::"
    assert lockout_address(request("2001:db8:1:3::1")) != first


def test_ipv4_mapped_addresses_count_as_ipv4():
    """::ffff:203.0.113.5 is 203.0.113.5."""
    assert lockout_address(request("::ffff:203.0.113.5")) == "203.0.113.5"
    assert lockout_address(request("203.0.113.5")) == "203.0.113.5"


def test_an_ipv6_zone_is_dropped():
    """fe80::1%eth0 is stored as fe80::1, which every database accepts."""
    assert client_ip(request("fe80::1%eth0")) == "fe80::1"


def test_one_proxy_and_one_address_is_the_client(behind_proxy):
    """Behind one proxy a client that sent no X-Forwarded-For is the one address it wrote."""
    behind_proxy.FEEDBACK_PROXY_COUNT = 1
    assert client_ip(request("10.0.0.2", "203.0.113.5")) == "203.0.113.5"


def test_as_many_addresses_as_proxies_is_the_left_most(behind_proxy):
    """Two proxies, two addresses: the left-most is the client the outer proxy saw."""
    behind_proxy.FEEDBACK_PROXY_COUNT = 2
    assert client_ip(request("10.0.0.2", "203.0.113.5, 10.0.0.1")) == "203.0.113.5"


def test_clients_behind_one_proxy_are_locked_out_apart(behind_proxy):
    """The login lockout counts each client behind the proxy, not the proxy's own address."""
    first = lockout_address(request("10.0.0.2", "203.0.113.5"))
    second = lockout_address(request("10.0.0.2", "203.0.113.6"))
    assert (first, second) == ("203.0.113.5", "203.0.113.6")


def test_an_unset_proxy_count_means_one_proxy(behind_proxy):
    """A header without FEEDBACK_PROXY_COUNT is one proxy's: the right-most address."""
    behind_proxy.FEEDBACK_PROXY_COUNT = None
    assert client_ip(request("10.0.0.2", "192.0.2.9, 203.0.113.5")) == "203.0.113.5"


def test_spaces_around_an_address_are_ignored(behind_proxy):
    """Proxies write ", " between entries; the address is read without them."""
    assert client_ip(request("10.0.0.2", "192.0.2.9,  203.0.113.5 ")) == "203.0.113.5"


def test_a_lockout_without_an_address_is_none():
    """With no usable address the lockout gets None, not a made-up one."""
    assert lockout_address(request(remote="")) is None


@pytest.mark.parametrize(
    ("address", "client"),
    [("2002:cb00:7105::1", "203.0.113.5"), ("2001:0:4136:e378:8000:63bf:34ff:8efa", "203.0.113.5")],
)
def test_6to4_and_teredo_addresses_count_as_their_ipv4_client(address, client):
    """An IPv6 address that carries an IPv4 one (6to4, Teredo) is that IPv4 client."""
    assert lockout_address(request(address)) == client


# (header, FEEDBACK_PROXY_COUNT, the client): every request comes from the proxy at 10.0.0.2.
SAME_CLIENT = [
    (None, 1, "10.0.0.2"),
    ("203.0.113.5", 1, "203.0.113.5"),
    ("203.0.113.5, 10.0.0.1", 2, "203.0.113.5"),
    ("192.0.2.9", 2, "10.0.0.2"),
    ("192.0.2.9, 10.0.0.1", 3, "10.0.0.2"),
    ("192.0.2.9, 203.0.113.5", 1, "203.0.113.5"),
    ("192.0.2.9, 198.51.100.7, 203.0.113.5, 10.0.0.1", 2, "203.0.113.5"),
    ("unknown", 1, "10.0.0.2"),
    ("203.0.113.5, <script>", 1, "10.0.0.2"),
    (" , ", 1, "10.0.0.2"),
    ("203.0.113.5:4711", 1, "203.0.113.5"),
    ("[2001:db8:1:2::1]:443", 1, "2001:db8:1:2::"),
    ("fe80::1%eth0", 1, "fe80::"),
    ("2001:db8:1:2:abcd::1", 1, "2001:db8:1:2::"),
    ("::ffff:203.0.113.5", 1, "203.0.113.5"),
    ("2002:cb00:7105:9::1", 1, "203.0.113.5"),
    ("2001:0:4136:e378:8000:63bf:34ff:8efa", 1, "203.0.113.5"),
]


@pytest.mark.parametrize(("forwarded", "proxies", "client"), SAME_CLIENT)
def test_the_vote_limit_and_the_lockout_name_the_same_client(
    behind_proxy, forwarded, proxies, client
):
    """For any header the login lockout and the vote rate limit count the same client."""
    from feedback.guards import client_key

    behind_proxy.FEEDBACK_PROXY_COUNT = proxies
    proxied = request("10.0.0.2", forwarded)
    assert lockout_address(proxied) == client
    vote_key = client_key(proxied)
    behind_proxy.FEEDBACK_CLIENT_IP_HEADER = ""  # the client connecting directly
    assert vote_key == client_key(request(client))
