"""In-process checks of the server's pieces: coalescing, framing, negotiation, validation."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
from typing import Any

import pytest

from pygent.errors import PygentError
from pygent.protocol import methods
from pygent.server import protocol as wire
from pygent.server.coalesce import ChunkCoalescer
from pygent.server.stdio import FrameReader


def chunk(text: str, kind: str = "agent_message_chunk") -> dict[str, Any]:
    return {"sessionUpdate": kind, "content": {"type": "text", "text": text}}


async def test_coalescer_merges_chunks_keeps_order_and_loses_nothing() -> None:
    sent: list[dict[str, Any]] = []
    tail_sent = asyncio.Event()

    def send(update: dict[str, Any]) -> None:
        sent.append(update)
        if (
            update["sessionUpdate"] == "agent_message_chunk"
            and "after" in update["content"]["text"]
        ):
            tail_sent.set()

    coalescer = ChunkCoalescer(send, interval=0.05)
    for i in range(100):
        coalescer.push(chunk(f"{i},"))
    coalescer.push(chunk("thinking", "agent_thought_chunk"))
    tool = {"sessionUpdate": "tool_call", "toolCallId": "c1", "title": "Read a.py", "kind": "read"}
    coalescer.push(tool)
    coalescer.push(chunk("after"))
    # The stream pauses here: the pending tail goes out by the timer, not by another push.
    await asyncio.wait_for(tail_sent.wait(), 30)
    text = "".join(
        u["content"]["text"] for u in sent if u["sessionUpdate"] == "agent_message_chunk"
    )
    assert text == "".join(f"{i}," for i in range(100)) + "after"
    kinds = [u["sessionUpdate"] for u in sent]
    # The thought and the tool call come after the text that preceded them, in order.
    assert kinds.index("agent_thought_chunk") < kinds.index("tool_call")
    assert kinds[-1] == "agent_message_chunk" and sent[-1]["content"]["text"] == "after"
    assert len(sent) <= 5


class FakeClock:
    """Simulated monotonic time: advanced by the test, never by the machine."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_coalescer_keeps_sending_while_a_fast_stream_never_yields() -> None:
    """5,000 chunks at 2,000/s of simulated time, pushed without one ``await`` in between.

    The event loop never runs, so a timer can never fire: the coalescer must send from ``push``
    itself. Every 100 ms window of the stream gets a notification, and no window more than the
    rate limit allows.
    """
    clock = FakeClock()
    started = clock.now
    sent_at: list[float] = []
    texts: list[str] = []

    def send(update: dict[str, Any]) -> None:
        sent_at.append(clock.now - started)
        texts.append(update["content"]["text"])

    coalescer = ChunkCoalescer(send, clock=clock)
    for i in range(5000):
        clock.now += 0.0005
        coalescer.push(chunk(f"{i} "))
    streamed_for = clock.now - started
    coalescer.flush()

    assert "".join(texts) == "".join(f"{i} " for i in range(5000))
    windows = [0] * (int(streamed_for / 0.1) + 1)
    for at in sent_at:
        windows[min(int(at / 0.1), len(windows) - 1)] += 1
    assert all(count >= 1 for count in windows), windows
    gaps = [later - earlier for earlier, later in itertools.pairwise(sent_at)]
    assert max(gaps) <= 0.1
    assert max(windows) <= 0.1 * 60 + 1
    assert len(sent_at) <= streamed_for * 60 + 2


async def test_coalescer_sends_at_most_about_sixty_per_second() -> None:
    clock = FakeClock()
    sent: list[dict[str, Any]] = []
    coalescer = ChunkCoalescer(sent.append, clock=clock)
    for _ in range(2000):  # 2 s of simulated time, a chunk every millisecond
        clock.now += 0.001
        coalescer.push(chunk("x"))
    coalescer.flush()
    assert 2.0 * 50 <= len(sent) <= 2.0 * 60 + 2
    assert "".join(u["content"]["text"] for u in sent) == "x" * 2000


def test_coalescer_passes_chunks_with_extra_fields_unmerged() -> None:
    sent: list[dict[str, Any]] = []
    coalescer = ChunkCoalescer(sent.append)
    special = {**chunk("a"), "_meta": {"x": 1}}
    coalescer.push(special)
    assert sent == [special]


def _reader(data: bytes, limit: int = 1000) -> FrameReader:
    return FrameReader(io.BufferedReader(io.BytesIO(data)), max_bytes=limit)  # type: ignore[arg-type]


def test_frame_reader_handles_garbage_oversize_and_eof() -> None:
    body = json.dumps({"jsonrpc": "2.0", "method": "x"}).encode()
    data = (
        b"Content-Type: x\r\n\r\n"  # no length
        + b"Content-Length: 2000\r\n\r\n"
        + b"y" * 2000  # over the limit
        + b"content-length: %d\r\n\r\n" % len(body)
        + body
        + b"Content-Length: 10\r\n\r\nabc"  # truncated
    )
    reader = _reader(data)
    first = reader.read_frame()
    assert first is not None and first.error and "Content-Length" in first.error
    second = reader.read_frame()
    assert second is not None and second.error and "exceeds the limit" in second.error
    third = reader.read_frame()
    assert third is not None and third.body == body
    assert reader.read_frame() is None


def _frame(payload: dict[str, Any]) -> bytes:
    body = json.dumps(payload).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_frame_reader_resyncs_after_a_body_shorter_than_its_content_length() -> None:
    short = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "a"}).encode()
    good = {"jsonrpc": "2.0", "id": 2, "method": "b"}
    data = b"Content-Length: %d\r\n\r\n" % (len(short) - 10) + short + _frame(good) + _frame(good)
    reader = _reader(data)
    first = reader.read_frame()
    assert first is not None and first.body == short[:-10]  # answered as a parse error upstream
    # The 10 leftover bytes run into the next header: the reader still finds both frames.
    assert [json.loads(f.body or b"") for f in (reader.read_frame(), reader.read_frame()) if f] == [
        good,
        good,
    ]
    assert reader.read_frame() is None


@pytest.mark.parametrize("length", [b"99999999999999999999", b"9" * 5000, b"1000001"])
def test_frame_reader_refuses_an_absurd_length_at_once_and_reads_on(length: bytes) -> None:
    good = {"jsonrpc": "2.0", "id": 7, "method": "after"}
    # The claimed body never arrives in full; what follows is a valid frame.
    data = b"Content-Length: " + length + b"\r\n\r\n" + b'{"partial": "x' + _frame(good)
    reader = _reader(data, limit=1_000_000)
    refused = reader.read_frame()
    assert refused is not None and refused.error is not None
    assert "exceeds the limit of 1000000 bytes" in refused.error
    assert len(refused.error) < 400
    following = reader.read_frame()
    assert following is not None and following.body is not None
    assert json.loads(following.body) == good


def test_frame_reader_skips_an_oversized_body_longer_than_a_line_read() -> None:
    huge = json.dumps({"jsonrpc": "2.0", "id": 1, "params": {"t": "z" * 300_000}}).encode()
    good = {"jsonrpc": "2.0", "id": 2, "method": "b"}
    data = b"Content-Length: %d\r\n\r\n" % len(huge) + huge + _frame(good)
    reader = _reader(data, limit=1000)
    refused = reader.read_frame()
    assert refused is not None and refused.error and "exceeds the limit" in refused.error
    following = reader.read_frame()
    assert following is not None and json.loads(following.body or b"") == good


def test_client_features_and_initialize_result() -> None:
    params = {
        "capabilities": {
            "general": {"positionEncodings": ["utf-32", "utf-16"]},
            "workspace": {
                "applyEdit": True,
                "workspaceEdit": {"documentChanges": True, "changeAnnotationSupport": {}},
            },
            "experimental": {"pygent": {"permissionRequests": True}},
        }
    }
    features = wire.client_features(params)
    assert features.apply_edit and features.change_annotations and features.permission_requests
    assert features.position_encoding == "utf-32"
    bare = wire.client_features({"capabilities": {}})
    assert not bare.apply_edit and not bare.permission_requests
    assert bare.position_encoding == "utf-16"
    result = wire.initialize_result(params, "9.9")
    assert result["serverInfo"] == {"name": "pygent", "version": "9.9"}


def test_init_options_invalid_values_fall_back_with_warnings() -> None:
    options, warnings = wire.parse_init_options(
        {"model": "", "permissionMode": "yolo", "logLevel": "loud", "followAgent": "yes", "x": 1}
    )
    assert options == wire.InitOptions()
    assert len(warnings) == 5
    assert any("permissionMode" in w and "yolo" in w for w in warnings)
    good, none = wire.parse_init_options({"model": "openai/x", "permissionMode": "plan"})
    assert none == []
    assert good.settings_overrides() == {
        "llm": {"model": "openai/x"},
        "permissions": {"mode": "plan"},
    }


@pytest.mark.parametrize(
    ("sent", "can_show", "expected"),
    [
        (True, True, True),
        (False, True, False),  # the editor's choice wins over ui.follow_agent
        (None, True, None),  # not sent: ui.follow_agent decides
        (None, False, False),  # an editor that cannot show documents is never asked to
        (True, False, True),  # asked for explicitly: the editor knows what it supports
    ],
)
def test_follow_agent_comes_from_the_editor_else_the_setting(
    sent: bool | None, can_show: bool, expected: bool | None
) -> None:
    from pygent.server.server import _follow_agent

    raw = {} if sent is None else {"followAgent": sent}
    options, warnings = wire.parse_init_options(raw)
    features = wire.client_features(
        {"capabilities": {"window": {"showDocument": {"support": can_show}}}}
    )
    assert warnings == []
    assert _follow_agent(options, features) is expected


@pytest.mark.parametrize(
    ("method", "params", "message"),
    [
        (
            methods.SESSION_PROMPT,
            {"sessionId": "s", "prompt": [{"type": "text"}]},
            "prompt[0].text: field required",
        ),
        (methods.SESSION_PROMPT, {"prompt": []}, "sessionId: field required"),
        (methods.SESSION_PROMPT, {"sessionId": "s", "prompt": [{"type": "nope"}]}, "prompt[0]:"),
        (methods.SESSION_SET_MODEL, {"sessionId": "s"}, "modelId: field required"),
        (methods.SESSION_SET_MODE, {"sessionId": "s", "modeId": "yolo"}, "modeId:"),
        (methods.SESSION_NEW, {"cwd": "relative/path"}, "cwd: must be an absolute path"),
        (methods.SESSION_LIST, "not an object", "params: must be an object"),
    ],
)
def test_validation_names_the_bad_field(method: str, params: Any, message: str) -> None:
    with pytest.raises(PygentError) as info:
        wire.validate_params(method, params)
    assert info.value.code == "invalid_params"
    assert info.value.message.startswith(message)


def test_validation_fills_editor_defaults(tmp_path: Any) -> None:
    checked = wire.validate_params(methods.SESSION_NEW, {}, tmp_path)
    assert checked == {"cwd": str(tmp_path), "mcpServers": []}
    resource = {
        "type": "resource",
        "resource": {"uri": "file:///a.py", "text": "x = 1"},
    }
    link = {"type": "resource_link", "uri": "file:///a.py", "name": "a.py"}
    wire.validate_params(methods.SESSION_PROMPT, {"sessionId": "s", "prompt": [resource, link]})


def test_error_payload_maps_codes() -> None:
    from pygent.errors import session_busy

    code, message, data = wire.error_payload(session_busy("abc"))
    assert code == -31009
    assert "already running" in message
    assert data["code"] == "session_busy" and data["sessionId"] == "abc"


async def test_client_reports_a_server_that_dies_with_its_stderr(tmp_path: Any) -> None:
    import sys

    from pygent.client import PygentClient, PygentClientError
    from pygent.client.client import CONNECTION_LOST

    script = (
        "import sys; sys.stdin.readline(); print('boom: bad config', file=sys.stderr); sys.exit(3)"
    )
    client = PygentClient([sys.executable, "-c", script], root=tmp_path)
    with pytest.raises(PygentClientError) as info:
        await asyncio.wait_for(client.start(), 60)
    assert info.value.code == CONNECTION_LOST
    assert info.value.error_code == "connection_lost"
    assert await asyncio.wait_for(client.close(), 30) == 3
    assert "boom: bad config" in "\n".join(client.stderr_tail)


def test_internal_error_names_an_unwritable_file_and_does_not_promise_a_log() -> None:
    from pygent.server.rpc import internal_error_message

    error = OSError(30, "Read-only file system", "/home/you/.local/share/pygent/x.jsonl")
    text = internal_error_message("during pygent/session/new", error)
    assert text.startswith(
        "pygent could not use /home/you/.local/share/pygent/x.jsonl during pygent/session/new: "
        "Read-only file system. Check that it exists and is writable"
    )
    # The suite runs with file logging off: the message must not send anyone to a log.
    assert "See the log file" not in text
    assert "File logging is off, so there is no log of it" in text
    other = internal_error_message("during x", ValueError("boom"))
    assert other.startswith("Internal error in pygent during x: ValueError: boom.")
