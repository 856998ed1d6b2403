"""The client's address: the TCP peer, or what our own proxies say in X-Forwarded-For.

Both frameworks call `ClientAddress.resolve` for every request, so it walks only the hops it
needs and parses nothing else.
"""

import ipaddress
from collections.abc import Iterable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_hop(hop: str) -> Address | None:
    """One X-Forwarded-For entry as an address, without a port (`1.2.3.4:80`, `[::1]:80`).

    Anything else (`unknown`, a host name, junk) is None: it names no client.
    """
    hop = hop.strip()
    if hop.startswith("["):
        hop, bracket, _port = hop[1:].partition("]")
        if not bracket:
            return None
    elif hop.count(":") == 1:
        hop = hop.partition(":")[0]
    try:
        return ipaddress.ip_address(hop)
    except ValueError:
        return None


class ClientAddress:
    """Our proxies append the address they saw to X-Forwarded-For: with `hops` proxies in a
    row, the client is the entry `hops` places from the right. Entries further left are what
    the client itself sent, so they are never read: skipping every entry that merely looks
    like a proxy (a private address) would believe a forged entry from any client inside one.
    """

    def __init__(self, trusted_proxies: Iterable[str], hops: int = 1) -> None:
        self._networks: list[Network] = [
            ipaddress.ip_network(entry, strict=False) for entry in trusted_proxies
        ]
        self._hops = hops

    def is_proxy(self, address: str | None) -> bool:
        """Whether a peer is one of our proxies, whose X-Forwarded-* headers are believed."""
        ip = parse_hop(address) if address else None
        return ip is not None and any(ip in network for network in self._networks)

    def resolve(self, peer: str | None, forwarded_for: str | None) -> str:
        """The address `hops` entries from the right, when the peer is a trusted proxy.

        A header with fewer entries gives its left-most address; an entry that is not an
        address stops the walk at the last one that was (or at the peer).
        """
        peer = peer or "unknown"
        if not forwarded_for or not self._networks or not self.is_proxy(peer):
            return peer
        client = peer
        hops = forwarded_for.rsplit(",", self._hops)
        for hop in reversed(hops[-self._hops :]):
            ip = parse_hop(hop)
            if ip is None:
                break
            client = str(ip)
        return client
