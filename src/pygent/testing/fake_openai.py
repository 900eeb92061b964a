"""OpenAI's Chat Completions API as the fake LLM server speaks it: whole answers and SSE chunks."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from pygent.testing.fake_http import send_event_stream, send_json
from pygent.testing.fake_script import pieces


def usage(body: dict[str, Any], item: dict[str, Any], text: str) -> dict[str, Any]:
    given = dict(item.get("usage") or {})
    prompt = int(given.get("prompt_tokens", max(1, len(json.dumps(body.get("messages", []))) // 4)))
    completion = int(given.get("completion_tokens", max(1, len(text) // 4)))
    cached = int(given.get("cached_tokens", item.get("cached_tokens", 0)))
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
    }


def tool_calls(item: dict[str, Any], counter: int) -> list[dict[str, Any]]:
    calls = []
    for i, call in enumerate(item.get("tool_calls") or []):
        args = call.get("arguments", {})
        raw = args if isinstance(args, str) else json.dumps(args)
        call_id = call.get("id") or f"call_{counter}_{i}"
        calls.append({"id": call_id, "name": call.get("name", ""), "arguments": raw})
    return calls


async def complete(
    writer: asyncio.StreamWriter,
    body: dict[str, Any],
    item: dict[str, Any],
    completion_id: str,
    model: str,
    calls: list[dict[str, Any]],
) -> None:
    """Answer ``/chat/completions`` without streaming."""
    if item.get("delay"):
        await asyncio.sleep(float(item["delay"]))
    text = str(item.get("text", ""))
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if item.get("reasoning"):
        message["reasoning_content"] = str(item["reasoning"])
    if calls:
        message["tool_calls"] = [
            {
                "id": c["id"],
                "type": "function",
                "function": {"name": c["name"], "arguments": c["arguments"]},
            }
            for c in calls
        ]
    finish = item.get("finish_reason") or ("tool_calls" if calls else "stop")
    await send_json(
        writer,
        200,
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": usage(body, item, text),
        },
    )


async def stream(
    writer: asyncio.StreamWriter,
    body: dict[str, Any],
    item: dict[str, Any],
    completion_id: str,
    model: str,
    calls: list[dict[str, Any]],
    chunk_size: int,
) -> bool:
    """Answer ``/chat/completions`` as OpenAI's ``chat.completion.chunk`` event stream."""
    created = int(time.time())
    size = int(item.get("chunk_size", chunk_size))
    text = str(item.get("text", ""))

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    events: list[dict[str, Any]] = []
    first = True

    def with_role(delta: dict[str, Any]) -> dict[str, Any]:
        nonlocal first
        if first:
            first = False
            return {"role": "assistant", **delta}
        return delta

    for piece in pieces(str(item.get("reasoning", "")), size):
        events.append(chunk(with_role({"reasoning_content": piece})))
    for piece in pieces(text, size):
        events.append(chunk(with_role({"content": piece})))
    for index, call in enumerate(calls):
        head = {
            "index": index,
            "id": call["id"],
            "type": "function",
            "function": {"name": call["name"], "arguments": ""},
        }
        events.append(chunk(with_role({"content": None, "tool_calls": [head]})))
        for piece in pieces(call["arguments"], size):
            events.append(
                chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
            )
    if first:  # nothing at all: one empty assistant delta
        events.append(chunk(with_role({"content": ""})))
    finish = item.get("finish_reason") or ("tool_calls" if calls else "stop")
    events.append(chunk({}, finish))
    options = body.get("stream_options") or {}
    if isinstance(options, dict) and options.get("include_usage"):
        events.append(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [],
                "usage": usage(body, item, text),
            }
        )

    payloads = [b"data: " + json.dumps(event).encode() + b"\n\n" for event in events]
    return await send_event_stream(writer, payloads, item, trailer=b"data: [DONE]\n\n")
