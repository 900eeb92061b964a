"""``pygent/session/load`` replays a long history completely, in order, before its answer."""

from __future__ import annotations

from pathlib import Path

from server_helpers import ClientFactory, wait

from pygent.agent.session import SessionStore


def _long_session(workspace: Path, turns: int) -> tuple[str, list[dict[str, object]]]:
    session = SessionStore(workspace).create("openai/fake-model", workspace)
    for n in range(turns):
        session.append({"role": "user", "content": f"question {n}"})
        session.append(
            {
                "role": "assistant",
                "content": f"reading {n}",
                "tool_calls": [
                    {
                        "id": f"call_{n}",
                        "type": "function",
                        "function": {"name": "read_file", "arguments": '{"path": "util.py"}'},
                    }
                ],
            }
        )
        session.append({"role": "tool", "tool_call_id": f"call_{n}", "content": f"body {n}"})
        session.append({"role": "assistant", "content": f"answer {n} é ✓"})
    return session.id, session.replay_updates()


async def test_a_long_history_is_replayed_whole_and_in_order_before_the_answer(
    make_client: ClientFactory, workspace: Path
) -> None:
    session_id, expected = _long_session(workspace, 500)  # 2,000 messages
    client = await make_client()
    async with client.stream(session_id) as stream:
        result = await wait(client.load_session(session_id), 120)
        replay = stream.drain()
    assert "modes" in result
    # One notification per message (text) plus one per tool call: never one per streamed chunk.
    assert len(expected) == 2_500
    assert [n["update"] for n in replay] == expected
    assert replay[-1]["update"]["content"]["text"] == "answer 499 é ✓"
    # The session is usable afterwards.
    sessions = await wait(client.list_sessions())
    assert sessions[0]["messageCount"] == 2_000
