"""``web_fetch`` against a real local HTTP server (http.server in a thread on 127.0.0.1)."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from _tool_testkit import make_ctx, registry_of

from pygent.settings.models import Settings
from pygent.tools import web
from pygent.tools.base import ToolRegistry, ToolResult, ToolRisk, dispatch

HTML = """<!doctype html>
<html><head><title>Doc</title>
<style>body { color: red; }</style>
<script>var secret = "do not show"; alert(1);</script>
</head><body>
<noscript>enable javascript please</noscript>
<h1>Main Title</h1>
<p>Hello <b>world</b>, see <a href="/plain.txt">the notes</a>.</p>
<ul><li>first</li><li>second</li></ul>
<pre><code>print("hi")</code></pre>
</body></html>
"""
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
LONG_TEXT = "".join(f"line {i:05d}\n" for i in range(5000))


class Handler(BaseHTTPRequestHandler):
    """Routes for every case the tests need."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, ctype: str | None, **headers: str) -> None:
        self.send_response(status)
        if ctype is not None:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str, status: int = 302) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        path = self.path
        if path == "/page.html":
            self._send(200, HTML.encode(), "text/html; charset=utf-8")
        elif path == "/plain.txt":
            self._send(200, b"plain notes\nsecond line\n", "text/plain")
        elif path == "/latin1.txt":
            self._send(200, "café crème".encode("latin-1"), "text/plain; charset=iso-8859-1")
        elif path == "/data.json":
            self._send(200, json.dumps({"a": 1, "b": [1, 2]}).encode(), "application/json")
        elif path == "/problem.json":
            self._send(200, b'{"title": "x"}', "application/problem+json")
        elif path == "/image.png":
            self._send(200, PNG, "image/png")
        elif path == "/untyped-text":
            self._send(200, b"no content type here\n", None)
        elif path == "/untyped-binary":
            self._send(200, PNG, None)
        elif path == "/long.txt":
            self._send(200, LONG_TEXT.encode(), "text/plain")
        elif path == "/gzip.txt":
            self._send(
                200, gzip.compress(b"compressed text " * 100), "text/plain", Content_Encoding="gzip"
            )
        elif path == "/empty.html":
            self._send(200, b"<html><body><script>x()</script></body></html>", "text/html")
        elif path == "/loop":
            self._redirect("/loop")
        elif path.startswith("/hops/"):
            n = int(path.rsplit("/", 1)[1])
            self._redirect(f"/hops/{n - 1}" if n > 1 else "/plain.txt", 301)
        elif path == "/to-file":
            self._redirect("file:///etc/passwd")
        elif path == "/to-localhost":
            port = self.server.server_address[1]  # type: ignore[index]
            self._redirect(f"http://localhost:{port}/plain.txt")  # type: ignore[str-bytes-safe]
        elif path == "/to-metadata":
            self._redirect("http://169.254.169.254/latest/meta-data/")
        elif path == "/to-self":
            port = self.server.server_address[1]  # type: ignore[index]
            self._redirect(f"http://127.0.0.1:{port}/plain.txt")
        elif path == "/no-location":
            self.send_response(302)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/missing":
            self._send(404, b"<html><body><h1>Not here</h1></body></html>", "text/html")
        elif path == "/boom":
            self._send(500, b"database on fire", "text/plain")
        elif path == "/huge-declared":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(50 * 1024 * 1024))
            self.end_headers()
            self.wfile.write(b"x" * 1024)
        elif path == "/endless":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()  # HTTP/1.0: the body runs until the connection closes
            chunk = b"y" * 65536
            sent = 0
            try:
                while sent < 200 * 1024 * 1024:
                    self.wfile.write(chunk)
                    sent += len(chunk)
            except OSError:
                pass
            self.server.endless_sent = sent  # type: ignore[attr-defined]
        elif path == "/slow":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            try:
                for _ in range(300):
                    self.wfile.write(b"drip\n")
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                pass
        else:
            self._send(404, b"unknown route", "text/plain")


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def base(server: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch) -> str:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}"  # type: ignore[str-bytes-safe]


@pytest.fixture
def registry() -> ToolRegistry:
    return registry_of(web.web_fetch)


async def fetch(
    reg: ToolRegistry, root: Path, settings: Settings | None = None, **args: Any
) -> ToolResult:
    return await dispatch(reg, "web_fetch", args, make_ctx(root, settings))


def test_spec_is_network_fetch_with_url_rule() -> None:
    spec = web.web_fetch.__pygent_tool__  # type: ignore[attr-defined]
    assert spec.risk is ToolRisk.NETWORK
    assert spec.kind == "fetch"
    assert spec.rule_arg == "url"
    assert spec.make_title({"url": "https://x.org/a"}) == "Fetch https://x.org/a"


async def test_html_becomes_markdown_without_scripts(
    registry: ToolRegistry, base: str, tmp_path: Path
) -> None:
    result = await fetch(registry, tmp_path, url=f"{base}/page.html")
    assert not result.is_error, result.text
    text = result.text
    assert text.startswith(f"URL: {base}/page.html\nContent-Type: text/html")
    assert "# Main Title" in text
    assert "Hello **world**" in text
    assert f"[the notes]({base}/plain.txt)" in text
    assert "Title: Doc" in text
    assert "- first" in text
    assert 'print("hi")' in text
    for hidden in ("do not show", "alert(1)", "color: red", "enable javascript"):
        assert hidden not in text
    assert result.raw_output is not None and result.raw_output["status"] == 200


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ("/plain.txt", "plain notes\nsecond line"),
        ("/data.json", '{"a": 1, "b": [1, 2]}'),
        ("/problem.json", '{"title": "x"}'),
        ("/latin1.txt", "café crème"),
        ("/untyped-text", "no content type here"),
        ("/gzip.txt", "compressed text compressed text"),
    ],
)
async def test_text_types_pass_through(
    registry: ToolRegistry, base: str, tmp_path: Path, route: str, expected: str
) -> None:
    result = await fetch(registry, tmp_path, url=base + route)
    assert not result.is_error, result.text
    assert expected in result.text


async def test_page_without_text(registry: ToolRegistry, base: str, tmp_path: Path) -> None:
    result = await fetch(registry, tmp_path, url=f"{base}/empty.html")
    assert not result.is_error
    assert "(the page has no text content)" in result.text


@pytest.mark.parametrize("route", ["/image.png", "/untyped-binary"])
async def test_binary_content_is_refused(
    registry: ToolRegistry, base: str, tmp_path: Path, route: str
) -> None:
    result = await fetch(registry, tmp_path, url=base + route)
    assert result.is_error
    assert "binary content" in result.text and "text only" in result.text
    assert f"{len(PNG) / 1024:.1f} KB" in result.text
    if route == "/image.png":
        assert "image/png" in result.text


async def test_long_text_is_truncated_to_max_chars(
    registry: ToolRegistry, base: str, tmp_path: Path
) -> None:
    result = await fetch(registry, tmp_path, url=f"{base}/long.txt", max_chars=1000)
    assert not result.is_error
    assert "line 00000" in result.text and "line 04999" not in result.text
    assert f"showing the first 1000 of {len(LONG_TEXT)} characters" in result.text
    assert "larger max_chars" in result.text
    assert result.raw_output is not None and result.raw_output["truncated"] is True


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "file: URLs are refused"),
        ("ftp://example.com/file.txt", "ftp: URLs are refused"),
        ("javascript:alert(1)", "javascript: URLs are refused"),
        ("data:text/plain,hello", "data: URLs are refused"),
        ("example.com/page", "has no scheme"),
        ("localhost:8080/x", "has no scheme. Write it in full, e.g. 'https://localhost:8080/x'"),
        ("   ", "URL is empty"),
        ("http://", "has no host name"),
        ("just words", "is not a URL"),
    ],
)
async def test_bad_urls_are_refused(
    registry: ToolRegistry, tmp_path: Path, url: str, message: str
) -> None:
    result = await fetch(registry, tmp_path, url=url)
    assert result.is_error
    assert message in result.text


async def test_unreachable_host_says_why(registry: ToolRegistry, tmp_path: Path) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    result = await fetch(registry, tmp_path, url=f"http://127.0.0.1:{port}/x")
    assert result.is_error
    assert f"Could not connect to 127.0.0.1:{port}" in result.text
    assert "Connection refused" in result.text


async def test_redirects_are_followed_up_to_five(
    registry: ToolRegistry, base: str, tmp_path: Path
) -> None:
    result = await fetch(registry, tmp_path, url=f"{base}/hops/5")
    assert not result.is_error, result.text
    assert "plain notes" in result.text
    assert f"URL: {base}/plain.txt (redirected from {base}/hops/5)" in result.text
    assert result.raw_output is not None and len(result.raw_output["redirects"]) == 5

    too_many = await fetch(registry, tmp_path, url=f"{base}/hops/6")
    assert too_many.is_error and "Too many redirects" in too_many.text


async def test_endless_redirect_loop(registry: ToolRegistry, base: str, tmp_path: Path) -> None:
    result = await fetch(registry, tmp_path, url=f"{base}/loop")
    assert result.is_error
    assert "Too many redirects: gave up after 5" in result.text
    assert f"{base}/loop -> {base}/loop" in result.text


async def test_redirect_to_other_scheme_is_not_followed(
    registry: ToolRegistry, base: str, tmp_path: Path
) -> None:
    result = await fetch(registry, tmp_path, url=f"{base}/to-file")
    assert result.is_error
    assert "redirects to file:///etc/passwd" in result.text
    missing = await fetch(registry, tmp_path, url=f"{base}/no-location")
    assert missing.is_error and "no Location header" in missing.text


async def test_http_errors_say_the_status(
    registry: ToolRegistry, base: str, tmp_path: Path
) -> None:
    not_found = await fetch(registry, tmp_path, url=f"{base}/missing")
    assert not_found.is_error
    assert not_found.text.startswith(f"HTTP 404 Not Found for {base}/missing")
    assert "Not here" in not_found.text
    boom = await fetch(registry, tmp_path, url=f"{base}/boom")
    assert boom.is_error
    assert boom.text.startswith("HTTP 500 Internal Server Error")
    assert "database on fire" in boom.text
    assert boom.raw_output is not None and boom.raw_output["status"] == 500


async def test_declared_huge_body_is_refused_before_download(
    registry: ToolRegistry, base: str, tmp_path: Path
) -> None:
    result = await fetch(registry, tmp_path, url=f"{base}/huge-declared")
    assert result.is_error
    assert "50.0 MB, more than the 5.0 MB download limit" in result.text
    assert "nothing was downloaded" in result.text


async def test_endless_body_is_cut_off_at_the_cap(
    registry: ToolRegistry, base: str, tmp_path: Path, server: ThreadingHTTPServer
) -> None:
    settings = Settings.model_validate({"tools": {"web_max_bytes": 256 * 1024}})
    result = await fetch(registry, tmp_path, settings, url=f"{base}/endless")
    assert result.is_error
    assert "sent more than the 256.0 KB download limit" in result.text
    assert "download was stopped" in result.text


async def test_endless_body_with_default_cap(
    registry: ToolRegistry, base: str, tmp_path: Path
) -> None:
    result = await fetch(registry, tmp_path, url=f"{base}/endless")
    assert result.is_error
    assert "more than the 5.0 MB download limit" in result.text


async def test_slow_response_times_out(
    registry: ToolRegistry, base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web, "TOTAL_TIMEOUT", 1.0)
    started = time.monotonic()
    result = await fetch(registry, tmp_path, url=f"{base}/slow")
    assert result.is_error
    assert "took longer than 1 s and was stopped" in result.text
    assert time.monotonic() - started < 20  # the server would drip for 30 s


def test_web_module_imports_no_httpx_at_import_time() -> None:
    import subprocess
    import sys

    code = (
        "import sys, pygent.tools.web; "
        "print('httpx' in sys.modules, 'markdownify' in sys.modules, 'bs4' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False False"


def test_html_to_markdown_resolves_links_against_base() -> None:
    md = web.html_to_markdown(
        '<head><base href="/docs/"></head><a href="intro.html">Intro</a> <a href="#top">Top</a>',
        "https://example.com/start",
    )
    assert "[Intro](https://example.com/docs/intro.html)" in md
    assert "[Top](#top)" in md


def test_html_to_markdown_drops_non_content() -> None:
    md = web.html_to_markdown(
        "<h2>T</h2><svg><text>icon</text></svg><template>t</template><p>a<br>b</p>"
    )
    assert md.startswith("## T")
    assert "icon" not in md and "t\n" not in md


def base_checks_as_public(monkeypatch: pytest.MonkeyPatch, base: str) -> None:
    """The test server's URLs (127.0.0.1) pass the check web_fetch makes before connecting."""
    from pygent.tools import netguard

    judge = netguard.private_target

    async def public_base(url: str, *, resolve: bool = True) -> str | None:
        return None if url.startswith(base) else await judge(url, resolve=resolve)

    monkeypatch.setattr(netguard, "private_target", public_base)


async def test_public_page_may_not_redirect_into_a_private_network(
    registry: ToolRegistry, base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pygent.tools import netguard

    # Here 127.0.0.1 plays a public host all the way: checked and connected to.
    base_checks_as_public(monkeypatch, base)
    real_kind = netguard.address_kind

    def kind(address: Any) -> str | None:
        return None if str(address) == "127.0.0.1" else real_kind(address)

    monkeypatch.setattr(netguard, "address_kind", kind)
    result = await fetch(registry, tmp_path, url=f"{base}/to-localhost")
    assert result.is_error
    assert f"{base}/to-localhost redirects to http://localhost:" in result.text
    assert "localhost is this machine" in result.text and "Fetch that URL directly" in result.text
    # Other redirects between public addresses are followed as before.
    ok = await fetch(registry, tmp_path, url=f"{base}/hops/2")
    assert not ok.is_error and "URL: " in ok.text


async def test_private_page_may_redirect_within(
    registry: ToolRegistry, base: str, tmp_path: Path
) -> None:
    # Fetching 127.0.0.1 was allowed (the permission engine asked); its redirect to
    # localhost stays inside and is followed.
    result = await fetch(registry, tmp_path, url=f"{base}/to-localhost")
    assert not result.is_error, result.text
    assert "redirected from" in result.text


async def test_a_name_that_turns_private_after_the_check_is_not_read(
    registry: ToolRegistry, base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DNS rebinding: when checked, the name answered with a public address; the connection
    # then went to 127.0.0.1.
    base_checks_as_public(monkeypatch, base)
    result = await fetch(registry, tmp_path, url=f"{base}/plain.txt")
    assert result.is_error
    assert "the connection went to 127.0.0.1, a loopback (this machine) address" in result.text
    assert "Nothing was read" in result.text


def test_proxy_from_the_environment_is_recognised(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.lower(), raising=False)
    monkeypatch.setattr("urllib.request.getproxies", lambda: {})
    assert not web._uses_proxy("http://example.com/")
    proxies = {"http": "http://10.0.0.1:3128", "no": "internal.example"}
    monkeypatch.setattr("urllib.request.getproxies", lambda: proxies)
    monkeypatch.setenv("no_proxy", "internal.example")
    assert web._uses_proxy("http://example.com/")
    assert not web._uses_proxy("https://example.com/")  # no https proxy set
    assert not web._uses_proxy("http://internal.example/")  # bypassed


# -- every redirect hop is judged by the permission engine ---------------------------------------


class RecordingPort:
    """An editor that answers permission requests from a script (default: reject)."""

    reviews_edits = False

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []

    def emit(self, update: dict[str, Any]) -> None:
        pass

    async def request_permission(self, request: Any) -> Any:
        self.requests.append(request)
        answer = self.answers.pop(0) if self.answers else "reject_once"
        return {"outcome": "selected", "optionId": answer}

    async def apply_edit(self, change_set: Any) -> Any:  # pragma: no cover - never called
        raise AssertionError("web_fetch edits nothing")


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every (host, port) the event loop opens a connection to during the test."""
    import asyncio.base_events

    seen: list[Any] = []
    real = asyncio.base_events.BaseEventLoop.create_connection

    async def create_connection(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append((kwargs.get("host", args[1] if len(args) > 1 else None), kwargs.get("port")))
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "create_connection", create_connection)
    return seen


async def fetch_through_engine(
    reg: ToolRegistry, root: Path, port: RecordingPort, mode: str, allow: list[str], url: str
) -> ToolResult:
    from pygent.permissions.engine import PermissionEngine
    from pygent.tools.base import ToolContext
    from pygent.tools.workspace import Workspace

    settings = Settings.model_validate({"permissions": {"allow": allow}})
    engine = PermissionEngine(settings, root, mode=mode)
    ctx = ToolContext(Workspace([root]), settings, port, tool_call_id="f1")  # type: ignore[arg-type]
    return await dispatch(reg, "web_fetch", {"url": url}, ctx, engine)


async def test_a_redirect_to_the_metadata_address_asks_and_is_refused_before_connecting(
    registry: ToolRegistry, base: str, tmp_path: Path, connections: list[Any]
) -> None:
    port = RecordingPort()
    result = await fetch_through_engine(
        registry, tmp_path, port, "auto", [f"web_fetch({base}/*)"], f"{base}/to-metadata"
    )
    assert result.is_error
    assert result.text.startswith(
        f"{base}/to-metadata redirects to http://169.254.169.254/latest/meta-data/, which was "
        "not fetched: The user declined to run web_fetch"
    )
    # The rule for the first URL let it run without asking; the hop was asked about on its own.
    (request,) = port.requests
    assert request["toolCall"]["rawInput"]["url"] == "http://169.254.169.254/latest/meta-data/"
    assert request["_meta"]["reason"].startswith("private network address: 169.254.169.254")
    assert connections and all(addr[0] != "169.254.169.254" for addr in connections)


async def test_an_allow_rule_for_one_private_url_does_not_cover_a_redirect_to_another(
    registry: ToolRegistry, base: str, tmp_path: Path, connections: list[Any]
) -> None:
    # 127.0.0.1:P redirects to localhost:P: the same machine, but another origin the rule
    # does not name. The person is asked; rejecting it leaves localhost unfetched.
    port = RecordingPort()
    result = await fetch_through_engine(
        registry, tmp_path, port, "auto", [f"web_fetch({base}/*)"], f"{base}/to-localhost"
    )
    assert result.is_error and "which was not fetched" in result.text
    assert [r["toolCall"]["rawInput"]["url"] for r in port.requests] == [
        f"http://localhost:{base.rsplit(':', 1)[1]}/plain.txt"
    ]
    assert len(connections) == 1  # only the first URL was connected to


async def test_an_allowed_hop_is_followed(
    registry: ToolRegistry, base: str, tmp_path: Path
) -> None:
    port = RecordingPort("allow_once")
    result = await fetch_through_engine(
        registry, tmp_path, port, "auto", [f"web_fetch({base}/*)"], f"{base}/to-localhost"
    )
    assert not result.is_error, result.text
    assert "plain notes" in result.text and len(port.requests) == 1


async def test_same_origin_redirects_are_not_asked_again(
    registry: ToolRegistry, base: str, tmp_path: Path
) -> None:
    port = RecordingPort()
    result = await fetch_through_engine(
        registry, tmp_path, port, "auto", [f"web_fetch({base}/*)"], f"{base}/hops/3"
    )
    assert not result.is_error and port.requests == []
    assert result.raw_output is not None and len(result.raw_output["redirects"]) == 3
    to_self = await fetch_through_engine(
        registry, tmp_path, port, "ask", [f"web_fetch({base}/*)"], f"{base}/to-self"
    )
    assert not to_self.is_error and port.requests == []


async def test_in_ask_mode_a_hop_to_another_origin_asks_like_a_fetch(
    registry: ToolRegistry, base: str, tmp_path: Path
) -> None:
    # The first fetch was allowed once by the person; the hop needs its own answer.
    port = RecordingPort("allow_once", "reject_once")
    result = await fetch_through_engine(registry, tmp_path, port, "ask", [], f"{base}/to-localhost")
    assert result.is_error and len(port.requests) == 2
    assert "The user declined" in result.text
