"""Anthropic's Messages API (``POST /v1/messages``) as the fake LLM server speaks it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from pygent.testing.fake_http import send_event_stream, send_json
from pygent.testing.fake_openai import usage as openai_usage_of
from pygent.testing.fake_script import pieces


async def answer(
    writer: asyncio.StreamWriter,
    body: dict[str, Any],
    item: dict[str, Any],
    message_id: str,
    model: str,
    calls: list[dict[str, Any]],
    chunk_size: int,
) -> bool:
    """Answer on Anthropic's Messages API (``POST /v1/messages``), streamed or not."""
    text = str(item.get("text", ""))
    reasoning = str(item.get("reasoning", ""))
    openai_usage = openai_usage_of(body, item, text)
    usage = {
        "input_tokens": openai_usage["prompt_tokens"],
        "output_tokens": openai_usage["completion_tokens"],
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": openai_usage["prompt_tokens_details"]["cached_tokens"],
    }
    finish = item.get("finish_reason") or ("tool_calls" if calls else "stop")
    stop_reason = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}.get(
        str(finish), "refusal" if finish == "content_filter" else "end_turn"
    )
    blocks: list[dict[str, Any]] = []
    if reasoning:
        blocks.append({"type": "thinking", "thinking": reasoning, "signature": "fake-sig"})
    if text:
        blocks.append({"type": "text", "text": text})
    for call in calls:
        try:
            parsed = json.loads(call["arguments"] or "{}")
        except ValueError:
            parsed = {}
        blocks.append(
            {
                "type": "tool_use",
                "id": call["id"].replace("call_", "toolu_"),
                "name": call["name"],
                "input": parsed,
                "_raw": call["arguments"],
            }
        )
    if not body.get("stream"):
        if item.get("delay"):
            await asyncio.sleep(float(item["delay"]))
        content = [{k: v for k, v in b.items() if k != "_raw"} for b in blocks]
        await send_json(
            writer,
            200,
            {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": content,
                "stop_reason": stop_reason,
                "stop_sequence": None,
                "usage": usage,
            },
        )
        return True
    size = int(item.get("chunk_size", chunk_size))
    start_usage = dict(usage, output_tokens=1)
    events: list[tuple[str, dict[str, Any]]] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": message_id,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": start_usage,
                },
            },
        )
    ]
    for index, block in enumerate(blocks):
        kind = block["type"]
        if kind == "thinking":
            start: dict[str, Any] = {"type": "thinking", "thinking": ""}
            deltas = [{"type": "thinking_delta", "thinking": p} for p in pieces(reasoning, size)]
            deltas.append({"type": "signature_delta", "signature": "fake-sig"})
        elif kind == "text":
            start = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": p} for p in pieces(text, size)]
        else:
            start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            deltas = [
                {"type": "input_json_delta", "partial_json": p} for p in pieces(block["_raw"], size)
            ]
        events.append(
            (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": start},
            )
        )
        for delta in deltas:
            events.append(
                (
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                )
            )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": usage["output_tokens"]},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    payloads = [f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events]
    return await send_event_stream(writer, payloads, item)
