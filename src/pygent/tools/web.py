"""The ``web_fetch`` tool: download one http(s) page and return it as text the model can read.

HTML becomes Markdown (scripts and styles dropped), text and JSON pass through, binary content is
refused. Downloads are bounded three ways: a connect timeout, a total timeout, and a byte cap
(``tools.web_max_bytes``) enforced while streaming, so an endless body is cut off early.
Redirects are followed by hand (at most :data:`MAX_REDIRECTS`) so each hop is checked before
anything connects to it: its scheme, and - through the permission gate that allowed the fetch, with
the same rules and modes - every hop to another origin (scheme, host, port) is judged as a fetch of
its own. So an allow rule for one private URL never covers a redirect to another private address,
and in ``auto`` mode a redirect into this machine or a private network asks. Without a gate, a
public page may still not redirect into a private network (see :mod:`pygent.tools.netguard`).
``httpx`` and ``markdownify`` are imported on first use only.
"""

from __future__ import annotations

import asyncio
import os
import re
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urljoin, urlsplit

from pydantic import Field

from pygent.tools.base import ToolContext, ToolOutput, ToolRisk, tool
from pygent.tools.errors import ToolError

if TYPE_CHECKING:
    import httpx

__all__ = ["MAX_REDIRECTS", "html_to_markdown", "web_fetch"]

#: Redirects followed before giving up.
MAX_REDIRECTS = 5
#: Seconds to establish a connection.
CONNECT_TIMEOUT = 10.0
#: Seconds for the whole fetch, redirects and download included.
TOTAL_TIMEOUT = 30.0
_USER_AGENT = "pygent-web-fetch/1.0 (+https://github.com/pygent-dev/pygent)"
_ERROR_BODY_CHARS = 2_000
_REDIRECT_CODES = (301, 302, 303, 307, 308)

_TEXT_TYPES = (
    "application/json",
    "application/ld+json",
    "application/xml",
    "application/javascript",
    "application/ecmascript",
    "application/x-javascript",
    "application/x-yaml",
    "application/yaml",
    "application/toml",
    "application/x-sh",
    "application/sql",
    "application/graphql",
    "application/x-ndjson",
)
_HTML_TYPES = ("text/html", "application/xhtml+xml")


def _title(args: dict[str, Any]) -> str:
    url = str(args.get("url", ""))
    return f"Fetch {url if len(url) <= 80 else url[:79] + '…'}"


# "example.com/page", "localhost:8080": a host (and port) without a scheme.
_BARE_HOST = re.compile(r"^[A-Za-z0-9.-]+(:\d+)?(/|$)")


def _check_url(url: str) -> str:
    url = url.strip()
    if not url:
        raise ToolError("The URL is empty. Give a full http:// or https:// URL.")
    if _BARE_HOST.match(url):
        raise ToolError(f"The URL {url!r} has no scheme. Write it in full, e.g. 'https://{url}'.")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if not scheme:
        raise ToolError(f"{url!r} is not a URL. Give a full http:// or https:// URL.")
    if scheme not in ("http", "https"):
        hint = " Use read_file for files in the workspace." if scheme == "file" else ""
        raise ToolError(
            f"Only http and https URLs can be fetched; {scheme}: URLs are refused.{hint}"
        )
    if not parts.hostname:
        raise ToolError(f"The URL {url!r} has no host name.")
    return url


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _is_text_type(media: str) -> bool:
    return (
        media.startswith("text/")
        or media in _TEXT_TYPES
        or media.endswith(("+json", "+xml", "+yaml"))
    )


def _untyped(media: str) -> bool:
    return not media or media == "application/octet-stream"


def _looks_binary(data: bytes) -> bool:
    sample = data[:4096]
    if b"\x00" in sample:
        return True
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut off by the sample's end is still text.
        return exc.start < len(sample) - 4
    return False


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n} bytes"


def html_to_markdown(html: str, base_url: str | None = None) -> str:
    """Convert HTML to Markdown, dropping scripts, styles and other non-content elements.

    Args:
        html: The page.
        base_url: Where the page came from; relative links are made absolute against it.
    """
    from markdownify import MarkdownConverter

    if base_url:
        html = _absolute_links(html, base_url)

    html = re.sub(
        r"<(noscript|template|svg|iframe)\b[^>]*>.*?</\1\s*>",
        "",
        html,
        flags=re.IGNORECASE | re.DOTALL,
    )
    title = _html_title(html)
    html = re.sub(r"<head\b[^>]*>.*?</head\s*>", "", html, flags=re.IGNORECASE | re.DOTALL)
    converter = MarkdownConverter(heading_style="ATX", bullets="-", strip=["img"])
    text: str = converter.convert(html)
    if title and title not in text[:200]:
        text = f"Title: {title}\n\n{text.strip()}"
    # Collapse the runs of blank lines that layout markup leaves behind.
    return re.sub(r"\n{3,}", "\n\n", text).strip()


_HREF = re.compile(r"""(\shref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)


def _absolute_links(html: str, base_url: str) -> str:
    match = re.search(r"""<base\b[^>]*href\s*=\s*["']([^"']+)["']""", html, re.IGNORECASE)
    if match:
        base_url = urljoin(base_url, match.group(1).strip())

    def fix(m: re.Match[str]) -> str:
        href = m.group(3).strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "data:")):
            return m.group(0)
        return f"{m.group(1)}{m.group(2)}{urljoin(base_url, href)}{m.group(2)}"

    return _HREF.sub(fix, html)


def _html_title(html: str) -> str:
    import html as html_lib

    match = re.search(r"<title\b[^>]*>(.*?)</title\s*>", html, flags=re.IGNORECASE | re.DOTALL)
    if not match:
        return ""
    return " ".join(html_lib.unescape(match.group(1)).split())


def _decode(data: bytes, response: httpx.Response) -> str:
    encoding = response.charset_encoding or "utf-8"
    try:
        return data.decode(encoding, errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")


def _reason(exc: BaseException) -> str:
    """The most specific cause in the chain, e.g. "Connection refused" rather than
    "All connection attempts failed"."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for item in reversed(chain):
        if isinstance(item, OSError) and isinstance(item.errno, int) and item.errno > 0:
            return os.strerror(item.errno)
        if isinstance(item, OSError) and item.strerror:
            return str(item.strerror)
    for item in reversed(chain):
        if str(item).strip():
            return str(item).strip()
    return type(exc).__name__


def _uses_proxy(url: str) -> bool:
    """Whether a proxy from the environment carries ``url`` (then the peer is the proxy)."""
    import urllib.request

    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    if not (proxies.get(parts.scheme.lower()) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(parts.hostname or "")


def _check_peer(url: str, response: httpx.Response) -> None:
    """Refuse a response from a private address when ``url``'s host looked public.

    The host was judged before connecting; a name whose DNS answer changed in between (DNS
    rebinding) would otherwise lead a public-looking fetch into this machine or a private
    network. Checked before anything of the body is read; skipped behind a proxy.
    """
    from pygent.tools.netguard import non_public_address

    stream = response.extensions.get("network_stream")
    if stream is None or _uses_proxy(url):
        return
    try:
        peer = stream.get_extra_info("server_addr")
    except Exception:  # a transport without the information: nothing to check against
        return
    found = non_public_address(str(peer[0])) if isinstance(peer, tuple) and peer else None
    if found:
        address, kind = found
        host = urlsplit(url).hostname or url
        raise ToolError(
            f"{host} looked public when pygent checked it, but the connection went to "
            f"{address}, a {kind} address (the name's DNS answer changed). Nothing was read "
            "from it. Fetch a private address by its own URL if you mean to (pygent asks first)."
        )


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), port or (443 if scheme == "https" else 80)


class _OtherOriginError(Exception):
    """A redirect to another origin, to be judged by the permission gate before it is followed."""

    def __init__(self, current: str, nxt: str, hops: list[str]) -> None:
        super().__init__(nxt)
        self.current = current
        self.nxt = nxt
        self.hops = hops


async def _judge_hop(ctx: ToolContext, hop: _OtherOriginError, max_chars: int) -> None:
    """Ask the permission gate about a redirect to another origin, as a fetch of its own.

    Raises:
        ToolError: the gate refused the hop (nothing has connected to it).
    """
    spec = getattr(web_fetch, "__pygent_tool__", None)
    if ctx.gate is None or spec is None:  # pragma: no cover - checked by the caller
        return
    decision = await ctx.gate.check(spec, {"url": hop.nxt, "max_chars": max_chars}, ctx)
    if not decision.allowed:
        raise ToolError(
            f"{hop.current} redirects to {hop.nxt}, which was not fetched: {decision.message}"
        )


async def _fetch(
    url: str,
    max_bytes: int,
    *,
    public_only: bool = False,
    judged: bool = False,
    hops: list[str] | None = None,
) -> tuple[httpx.Response, bytes, str, list[str]]:
    """GET ``url`` following redirects.

    Args:
        url: The URL (already allowed by the permission gate).
        max_bytes: The download cap.
        public_only: Refuse a redirect to a private address (the URL was public).
        judged: A permission gate judges redirects: a redirect to another origin raises
            :class:`_OtherOriginError` instead of being followed.
        hops: The URLs fetched before this one in the same call (redirects count across them).
    """
    import httpx

    from pygent.tools.netguard import private_target

    timeout = httpx.Timeout(TOTAL_TIMEOUT, connect=CONNECT_TIMEOUT)
    headers = {
        "User-Agent": _USER_AGENT,
        "Accept": "text/html,application/xhtml+xml,text/plain,application/json;q=0.9,*/*;q=0.5",
    }
    hops = [*(hops or []), url]
    async with httpx.AsyncClient(
        timeout=timeout, follow_redirects=False, headers=headers, trust_env=True
    ) as client:
        current = url
        while True:
            async with client.stream("GET", current) as response:
                if public_only:
                    _check_peer(current, response)
                if response.status_code in _REDIRECT_CODES:
                    location = response.headers.get("location", "")
                    if len(hops) > MAX_REDIRECTS:
                        chain = " -> ".join(hops[:8])
                        raise ToolError(
                            f"Too many redirects: gave up after {MAX_REDIRECTS} "
                            f"({chain} -> ...). The page redirects in a loop or too deep; "
                            "try the final address directly."
                        )
                    if not location:
                        raise ToolError(
                            f"{current} answered with a redirect ({response.status_code}) "
                            "but no Location header."
                        )
                    nxt = urljoin(current, location)
                    scheme = urlsplit(nxt).scheme.lower()
                    if scheme not in ("http", "https"):
                        raise ToolError(
                            f"{current} redirects to {nxt}, a {scheme}: URL; only http and "
                            "https are followed."
                        )
                    if judged and _origin(nxt) != _origin(current):
                        raise _OtherOriginError(current, nxt, hops)
                    private = await private_target(nxt) if public_only else None
                    if private:
                        raise ToolError(
                            f"{current} redirects to {nxt}, but {private}: a public page may "
                            "not lead into this machine or a private network. Fetch that URL "
                            "directly if it is what you need (pygent asks first)."
                        )
                    hops.append(nxt)
                    current = nxt
                    continue
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise ToolError(
                        f"{current} is {_size(int(declared))}, more than the "
                        f"{_size(max_bytes)} download limit (tools.web_max_bytes); "
                        "nothing was downloaded. Look for a smaller page or a raw text version."
                    )
                chunks: list[bytes] = []
                received = 0
                async for chunk in response.aiter_bytes():
                    received += len(chunk)
                    if received > max_bytes:
                        raise ToolError(
                            f"{current} sent more than the {_size(max_bytes)} download limit "
                            "(tools.web_max_bytes); the download was stopped. Look for a "
                            "smaller page or a raw text version."
                        )
                    chunks.append(chunk)
                raw = b"".join(chunks)
                return response, raw, current, hops


@tool(risk=ToolRisk.NETWORK, kind="fetch", title=_title, rule_arg="url")
async def web_fetch(
    ctx: ToolContext,
    url: str,
    max_chars: Annotated[int, Field(ge=100, le=200_000)] = 20_000,
) -> ToolOutput:
    """Fetch a web page (http or https) and return its content as text.

    HTML is converted to Markdown; plain text and JSON are returned as they are; images, PDFs
    and other binary files are refused. Redirects are followed (at most 5); downloads larger
    than 5 MB are refused.

    Args:
        url: The full URL, e.g. `https://docs.python.org/3/library/asyncio.html`.
        max_chars: Return at most this many characters of the converted page.
    """
    import httpx

    from pygent.tools.netguard import private_target

    url = _check_url(url)
    max_bytes = ctx.settings.tools.web_max_bytes
    judged = ctx.gate is not None
    current, earlier = url, list[str]()
    try:
        while True:
            public = await private_target(current) is None
            try:
                response, raw, final_url, hops = await asyncio.wait_for(
                    _fetch(current, max_bytes, public_only=public, judged=judged, hops=earlier),
                    timeout=TOTAL_TIMEOUT,
                )
                break
            except _OtherOriginError as hop:
                # Judged outside the download timeout: the person may take a while to answer.
                await _judge_hop(ctx, hop, max_chars)
                current, earlier = hop.nxt, hop.hops
    except asyncio.TimeoutError:
        raise ToolError(
            f"Fetching {url} took longer than {TOTAL_TIMEOUT:g} s and was stopped. "
            "The server may be slow or the page very large; try again later or another URL."
        ) from None
    except httpx.ConnectTimeout:
        raise ToolError(
            f"Could not connect to {urlsplit(url).netloc} within {CONNECT_TIMEOUT:g} s. "
            "Check the address; the host may be down or unreachable from here."
        ) from None
    except httpx.TimeoutException as exc:
        raise ToolError(
            f"Fetching {url} timed out ({type(exc).__name__}). The server stopped responding."
        ) from None
    except httpx.ConnectError as exc:
        raise ToolError(
            f"Could not connect to {urlsplit(url).netloc}: {_reason(exc)}. Check the address "
            "(spelling, port); the host may be down or unreachable from here."
        ) from None
    except httpx.HTTPError as exc:
        raise ToolError(f"Fetching {url} failed: {type(exc).__name__}: {_reason(exc)}.") from None

    content_type = response.headers.get("content-type", "")
    media = _media_type(content_type)
    status = response.status_code
    raw_output: dict[str, Any] = {
        "url": final_url,
        "status": status,
        "contentType": media or None,
        "bytes": len(raw),
    }
    if len(hops) > 1:
        raw_output["redirects"] = hops[1:]

    if media in _HTML_TYPES:
        text = html_to_markdown(_decode(raw, response), final_url)
    elif _is_text_type(media) or (_untyped(media) and not _looks_binary(raw)):
        text = _decode(raw, response)
    else:
        raise ToolError(
            f"{final_url} is binary content ({media or 'unknown type'}, {_size(len(raw))}); "
            "web_fetch returns text only (HTML, plain text, JSON)."
        )

    header = f"URL: {final_url}"
    if final_url != url:
        header += f" (redirected from {url})"
    if status >= 400:
        reason = response.reason_phrase or ""
        body = text.strip()[:_ERROR_BODY_CHARS] or "(empty body)"
        raw_output["truncated"] = len(text.strip()) > _ERROR_BODY_CHARS
        return ToolOutput(
            f"HTTP {status} {reason}".rstrip()
            + f" for {final_url}: the server returned an error, not the page.\n\n{body}",
            raw_output=raw_output,
            is_error=True,
        )

    total = len(text)
    truncated = total > max_chars
    raw_output["truncated"] = truncated
    raw_output["chars"] = total
    if truncated:
        text = text[:max_chars].rstrip() + (
            f"\n\n[Truncated: showing the first {max_chars} of {total} characters. "
            "Call web_fetch with a larger max_chars to see more.]"
        )
    if not text.strip():
        text = "(the page has no text content)"
    return ToolOutput(
        f"{header}\nContent-Type: {media or 'unknown'}\n\n{text}", raw_output=raw_output
    )
