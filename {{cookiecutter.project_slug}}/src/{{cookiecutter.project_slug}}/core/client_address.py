"""The client's address: the TCP peer, or what a trusted proxy says in X-Forwarded-For."""

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ClientAddress:
    def __init__(self, trusted_proxies: Iterable[str]) -> None:
        self._networks: list[Network] = [
            ipaddress.ip_network(entry, strict=False) for entry in trusted_proxies
        ]

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._networks)

    def resolve(self, peer: str | None, forwarded_for: str | None) -> str:
        """The right-most forwarded address that is not a trusted proxy, when the peer is one.

        Left-most entries are whatever the client chose to send, so they are never believed.
        """
        peer = peer or "unknown"
        if not forwarded_for or not self._networks or not self._trusted(peer):
            return peer
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self._trusted(hop):
                return hop
        return hops[0] if hops else peer
