"""Is a URL aimed at this machine or a private network?

``web_fetch`` may be asked (by a web page the model read, say) to fetch
``http://169.254.169.254/latest/meta-data/`` or a service on ``localhost``. Such a fetch is not
refused — a local dev server is a fine thing to read — but it always asks, even in ``auto`` mode,
and a public page may not redirect into one. The host is checked as written (``localhost``, IP
literals) and as it resolves, so a name that points inside is caught too.

A name whose DNS answer changes between the check and the connection (DNS rebinding) is caught
when ``web_fetch`` sees the address it connected to, before it reads the answer (the request has
been sent by then).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

__all__ = ["address_kind", "ip_address_or_none", "non_public_address", "private_target"]

#: Seconds to wait for a name to resolve before treating it as not private (the fetch that
#: follows resolves it again and reports the failure).
RESOLVE_TIMEOUT = 2.0

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def address_kind(address: IPAddress) -> str | None:
    """What kind of non-public address ``address`` is (``"loopback"``, ...), or None if public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return "loopback (this machine)"
    if address.is_link_local:
        return "link-local (where cloud metadata services answer)"
    if address.is_unspecified:
        return "unspecified (this machine)"
    if address.is_multicast:
        return "multicast"
    if address.is_private:
        return "private network"
    if not address.is_global:
        return "reserved, not publicly routed"
    return None


def ip_address_or_none(host: str) -> IPAddress | None:
    """``host`` as an IP address (an IPv6 zone such as ``%eth0`` ignored), or None."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])  # drop an IPv6 zone (`fe80::1%eth0`)
    except ValueError:
        return None


def non_public_address(text: str) -> tuple[IPAddress, str] | None:
    """``text`` as an address and its kind when it is an IP address that is not public."""
    address = ip_address_or_none(text)
    kind = address_kind(address) if address is not None else None
    return (address, kind) if address is not None and kind else None


async def private_target(url: str, *, resolve: bool = True) -> str | None:
    """Why ``url`` points at this machine or a private network, or None when it does not.

    Args:
        url: An http(s) URL.
        resolve: Also resolve a host name (``False``: judge the name as written only).

    Returns:
        A short reason for people, e.g. ``"169.254.169.254 is a link-local address (where cloud
        metadata services answer)"``; None for public hosts, unparsable URLs and names that do
        not resolve in time.
    """
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").lower()
        port = parts.port
    except ValueError:
        return None
    if not host:
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return f"{host} is this machine"
    literal = ip_address_or_none(host)
    if literal is not None:
        kind = address_kind(literal)
        return f"{host} is a {kind} address" if kind else None
    if not resolve:
        return None
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT
        )
    except (OSError, asyncio.TimeoutError, UnicodeError):
        return None
    for info in infos:
        found = non_public_address(str(info[4][0]))
        if found:
            return f"{host} resolves to {found[0]}, a {found[1]} address"
    return None
