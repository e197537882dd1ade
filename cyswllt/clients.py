"""Who a request comes from, behind reverse proxies the operator trusts (CYSWLLT_TRUSTED_PROXIES).

The peer of every request from a proxy is the proxy, so without this every citizen would share one
rate-limit bucket. With ``CYSWLLT_TRUSTED_PROXIES`` (comma-separated addresses or CIDR ranges), a
request whose peer is a trusted proxy comes from the right-most ``X-Forwarded-For`` hop that is not
itself a trusted proxy: hops to its left were written by the client and may be forged. A request
from any other peer is that peer, whatever headers it carries.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

TRUSTED = web.AppKey("trusted_proxies", tuple)
_CLIENT = web.RequestKey("client_address", str)


def parse_proxies(spec: str | None) -> tuple[Network, ...]:
    """"10.0.0.1, 10.1.0.0/16, ::1" -> networks; a clear error for anything else."""
    networks = []
    for item in (spec or "").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or CIDR range "
                             "(give them comma-separated, e.g. 10.0.0.5,10.1.0.0/16)") from None
    return tuple(networks)


@lru_cache(maxsize=4096)
def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # 192.0.2.1:5000
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(text: str, proxies: tuple[Network, ...]) -> bool:
    address = _address(text)
    return address is not None and any(address in network for network in proxies)


def forwarded_hops(request: web.Request) -> list[str]:
    return [hop.strip() for header in request.headers.getall("X-Forwarded-For", ())
            for hop in header.split(",") if hop.strip()]


def client_address(request: web.Request) -> str:
    """The client's address as far as it can be trusted (kept on the request once worked out)."""
    known = request.get(_CLIENT)
    if known is not None:
        return known
    peer = request.remote or "unknown"
    proxies = request.app.get(TRUSTED, ())
    client = peer
    if proxies and _trusted(peer, proxies):
        hops = forwarded_hops(request)
        client = next((hop for hop in reversed(hops) if not _trusted(hop, proxies)), hops[0] if hops else peer)
        address = _address(client)
        client = str(address) if address is not None else client[:100]
    request[_CLIENT] = client
    return client


def is_loopback(request: web.Request) -> bool:
    """A client on this host, not relayed by a proxy (a proxy on this host relays the world)."""
    address = _address(client_address(request))
    if address is None or not address.is_loopback:
        return False
    relayed = "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    return not relayed or _trusted(request.remote or "", request.app.get(TRUSTED, ()))
