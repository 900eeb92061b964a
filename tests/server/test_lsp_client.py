"""A bare LSP client (pytest-lsp, no pygent plugin) drives full turns through ``pygent serve``.

Such a client knows nothing of ``pygent/*``: it uses ``workspace/executeCommand pygent.prompt``,
answers permission questions as ``window/showMessageRequest`` and reviews edits through
``workspace/applyEdit`` without change annotations.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient
from pytest_lsp.client import make_test_lsp_client
from server_helpers import SERVER_CMD, UTIL_PY, wait

from pygent.testing.fake_llm import FakeLLMThread


def bare_capabilities(apply_edit: bool) -> types.ClientCapabilities:
    return types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(
            apply_edit=apply_edit,
            workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True),
        ),
        window=types.WindowClientCapabilities(work_done_progress=True),
    )


class Answers:
    """What the bare client answers, and what it was asked."""

    def __init__(self) -> None:
        self.action: str | None = "Allow once"
        self.questions: list[types.ShowMessageRequestParams] = []
        self.edits: list[types.ApplyWorkspaceEditParams] = []


@pytest.fixture
async def lsp_client(
    workspace: Path, server_env: dict[str, str]
) -> AsyncIterator[tuple[LanguageClient, Answers]]:
    client = make_test_lsp_client()
    answers = Answers()

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def show_message_request(
        params: types.ShowMessageRequestParams,
    ) -> types.MessageActionItem | None:
        answers.questions.append(params)
        return None if answers.action is None else types.MessageActionItem(title=answers.action)

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        answers.edits.append(params)
        return types.ApplyWorkspaceEditResult(applied=True)

    await client.start_io(*SERVER_CMD, env=server_env, cwd=str(workspace))
    yield client, answers
    await wait(client.shutdown_session(), 60)
    await client.stop()


async def start(
    client: LanguageClient, workspace: Path, apply_edit: bool
) -> types.InitializeResult:
    return await wait(
        client.initialize_session(
            types.InitializeParams(
                capabilities=bare_capabilities(apply_edit),
                root_uri=workspace.as_uri(),
                process_id=None,
            )
        )
    )


async def run_command(client: LanguageClient, text: str) -> Any:
    return await wait(
        client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="pygent.prompt", arguments=[text])
        )
    )


async def test_bare_client_initializes_and_sees_the_commands(
    lsp_client: tuple[LanguageClient, Answers], workspace: Path
) -> None:
    client, _ = lsp_client
    result = await start(client, workspace, apply_edit=True)
    assert result.server_info is not None and result.server_info.name == "pygent"
    assert result.capabilities.execute_command_provider is not None
    assert list(result.capabilities.execute_command_provider.commands) == [
        "pygent.prompt",
        "pygent.cancel",
    ]


async def test_bare_client_permission_via_show_message_request_allow(
    lsp_client: tuple[LanguageClient, Answers], workspace: Path, fake_llm: FakeLLMThread
) -> None:
    client, answers = lsp_client
    fake_llm.script(
        [
            {"tool_calls": [{"name": "shell", "arguments": {"command": "touch made-here"}}]},
            {"text": "Created the file."},
        ]
    )
    await start(client, workspace, apply_edit=True)
    result = await run_command(client, "create a file")
    assert result["stopReason"] == "end_turn"
    assert result["text"] == "Created the file."
    assert (workspace / "made-here").exists()
    question = answers.questions[0]
    assert "touch made-here" in question.message
    assert [a.title for a in question.actions or []][:1] == ["Allow once"]
    assert "Reject once" in [a.title for a in question.actions or []]
    assert any(m.message == "Created the file." for m in client.messages)


async def test_bare_client_dismissing_the_question_rejects_once(
    lsp_client: tuple[LanguageClient, Answers], workspace: Path, fake_llm: FakeLLMThread
) -> None:
    client, answers = lsp_client
    answers.action = None
    fake_llm.script(
        [
            {"tool_calls": [{"name": "shell", "arguments": {"command": "touch not-made"}}]},
            {"text": "You declined."},
        ]
    )
    await start(client, workspace, apply_edit=True)
    result = await run_command(client, "create a file")
    assert result["stopReason"] == "end_turn"
    assert not (workspace / "not-made").exists()
    assert len(answers.questions) == 1


async def test_bare_client_reviews_edits_without_annotations(
    lsp_client: tuple[LanguageClient, Answers], workspace: Path, fake_llm: FakeLLMThread
) -> None:
    client, answers = lsp_client
    fake_llm.script(
        [
            {
                "tool_calls": [
                    {
                        "name": "edit_file",
                        "arguments": {
                            "path": "util.py",
                            "old_string": "return a + b",
                            "new_string": "return b + a",
                        },
                    }
                ]
            },
            {"text": "Swapped."},
        ]
    )
    await start(client, workspace, apply_edit=True)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=(workspace / "util.py").as_uri(), language_id="python", version=3, text=UTIL_PY
            )
        )
    )
    result = await run_command(client, "swap")
    assert result["stopReason"] == "end_turn"
    assert answers.questions == []  # the review is the approval
    edit = answers.edits[0].edit
    assert edit.change_annotations is None
    change = (edit.document_changes or [])[0]
    assert isinstance(change, types.TextDocumentEdit)
    assert change.text_document.version == 3
    first = change.edits[0]
    assert not isinstance(first, types.SnippetTextEdit)
    assert first.new_text.strip().startswith("b") or "b + a" in first.new_text
