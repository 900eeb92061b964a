"""``pygent.tools.netguard``: which URLs point at this machine or a private network."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any

import pytest

from pygent.tools import netguard
from pygent.tools.netguard import address_kind, private_target


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped IPv6
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.10", "private"),
        ("fd00::1", "private"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "reserved"),  # carrier-grade NAT: not private, not global either
        ("224.0.0.1", "multicast"),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_address_kind(address: str, kind: str | None) -> None:
    found = address_kind(ipaddress.ip_address(address))
    if kind is None:
        assert found is None
    else:
        assert found is not None and found.startswith(kind)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://localhost:8000/x", "localhost is this machine"),
        ("http://api.localhost/", "api.localhost is this machine"),
        ("http://LOCALHOST./", "localhost is this machine"),
        ("http://127.0.0.1/", "127.0.0.1 is a loopback (this machine) address"),
        ("http://[::1]:9000/", "::1 is a loopback (this machine) address"),
        ("http://user:pw@10.0.0.8:80/", "10.0.0.8 is a private network address"),
        ("https://1.1.1.1/", None),
        ("not a url", None),
        ("http://[broken/", None),
    ],
)
async def test_private_target_without_resolving(url: str, expected: str | None) -> None:
    assert await private_target(url, resolve=False) == expected


def _resolver(answers: dict[str, str]) -> Any:
    async def getaddrinfo(host: str, port: Any, **kwargs: Any) -> list[Any]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]

    return getaddrinfo


async def test_names_are_judged_by_what_they_resolve_to(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    answers = {"metadata.google.internal": "169.254.169.254", "docs.example": "93.184.215.14"}
    monkeypatch.setattr(loop, "getaddrinfo", _resolver(answers))
    reason = await private_target("http://metadata.google.internal/computeMetadata/v1/")
    assert reason == (
        "metadata.google.internal resolves to 169.254.169.254, a link-local "
        "(where cloud metadata services answer) address"
    )
    assert await private_target("https://docs.example/") is None
    assert await private_target("https://unknown.example/") is None  # fails later, in the fetch


async def test_a_resolver_that_hangs_is_not_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()

    async def hang(*args: Any, **kwargs: Any) -> list[Any]:
        await asyncio.sleep(60)
        return []

    monkeypatch.setattr(loop, "getaddrinfo", hang)
    monkeypatch.setattr(netguard, "RESOLVE_TIMEOUT", 0.05)
    assert await private_target("https://slow.example/") is None


@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f.1"])
async def test_encoded_loopback_is_judged_as_the_system_resolves_it(host: str) -> None:
    # The real resolver: whatever address the OS makes of an odd spelling (the address the
    # fetch would connect to), the check sees the same.
    try:
        resolved = {info[4][0] for info in socket.getaddrinfo(host, 80, type=socket.SOCK_STREAM)}
    except OSError:
        resolved = set()
    reason = await private_target(f"http://{host}/")
    if "127.0.0.1" in resolved:
        assert reason == f"{host} resolves to 127.0.0.1, a loopback (this machine) address"
    else:
        assert reason is None
