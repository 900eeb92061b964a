"""HTTP/1.1 plumbing of the fake LLM server: read a request, send JSON, stream server-sent events."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


async def send_json(
    writer: asyncio.StreamWriter,
    status: int,
    payload: Any,
    headers: dict[str, str] | None = None,
) -> None:
    data = json.dumps(payload).encode()
    head = [
        f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}",
        "content-type: application/json",
        f"content-length: {len(data)}",
    ]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
    await writer.drain()


async def send_event_stream(
    writer: asyncio.StreamWriter,
    payloads: list[bytes],
    item: dict[str, Any],
    trailer: bytes | None = None,
) -> bool:
    """Stream server-sent event ``payloads`` (then ``trailer``) as a chunked 200 response.

    The script item's ``delay`` waits before each event; ``drop_after_chunks`` cuts the
    connection after that many events (before the trailer). Returns False when it was cut.
    """
    delay = float(item.get("delay", 0) or 0)
    drop_after = item.get("drop_after_chunks")
    writer.write(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
        b"transfer-encoding: chunked\r\n\r\n"
    )
    await writer.drain()
    for sent, payload in enumerate(payloads):
        if drop_after is not None and sent >= int(drop_after):
            abort(writer)
            return False
        if delay:
            await asyncio.sleep(delay)
        write_chunk(writer, payload)
        await writer.drain()
    if trailer is not None:
        if drop_after is not None and len(payloads) >= int(drop_after):
            abort(writer)
            return False
        write_chunk(writer, trailer)
    writer.write(b"0\r\n\r\n")
    await writer.drain()
    return True


def write_chunk(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")


def abort(writer: asyncio.StreamWriter) -> None:
    transport = writer.transport
    with contextlib.suppress(Exception):
        transport.abort()


async def read_request(
    reader: asyncio.StreamReader,
) -> tuple[str, str, dict[str, str], bytes] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) < 2:
        return None
    method, path = parts[0].upper(), parts[1]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    body = b""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
    else:
        length = int(headers.get("content-length", "0") or 0)
        if length:
            body = await reader.readexactly(length)
    return method, path, headers, body
