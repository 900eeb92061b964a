"""A session deleted while something still holds it is not brought back as a headless file.

Found by the fuzzer: ``setMode`` racing ``delete`` re-created the file with a lone ``meta`` line,
which then loaded with a "no valid header" warning.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pygent.agent.session import SessionStore
from pygent.errors import PygentError


def test_write_to_a_deleted_session_says_not_found_and_creates_no_file(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "ws", base_dir=tmp_path / "sessions")
    session = store.create("openai/fake-model")
    session.append({"role": "user", "content": "hi"})
    store.delete(session.id)
    with pytest.raises(PygentError) as caught:
        session.set_meta(mode="plan")
    assert caught.value.code == "session_not_found"
    with pytest.raises(PygentError):
        session.append({"role": "assistant", "content": "late"})
    assert not session.path.exists()
    assert store.list() == []
