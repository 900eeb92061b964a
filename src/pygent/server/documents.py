"""The editor's open documents, kept by pygls' document model and mirrored into the tools' overlay.

pygls' document model needs lsprotocol's types, whose import costs ~0.25 s of CPU: more than the
whole ``session/new`` budget. They are therefore loaded in a worker thread on the first
``textDocument/did*`` notification, never on the event loop and never on the path of a client that
sends no documents (the TUI, ``pygent run``, ACP). Notifications that arrive meanwhile are queued
and applied in their order once the model is loaded; a turn awaits :meth:`OpenDocuments.settled`
first, so the tools never read a buffer older than what the editor sent before the prompt.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from loguru import logger

from pygent.server import protocol as wire

__all__ = ["OpenDocuments"]

#: The notifications this model handles.
METHODS = ("textDocument/didOpen", "textDocument/didChange", "textDocument/didClose")


def _import_model() -> None:
    """Import pygls' document model and lsprotocol's types (run in a worker thread)."""
    import lsprotocol.converters
    import lsprotocol.types  # noqa: F401
    import pygls.workspace  # noqa: F401


class OpenDocuments:
    """Open documents in the negotiated position encoding, mirrored into the tools' overlay.

    Args:
        root: The first workspace root (pygls' document model wants a root URI).
        position_encoding: The negotiated position encoding (``utf-16``, ``utf-8`` or ``utf-32``).
        on_text: Called with ``(path, text, version)`` after a document opened or changed.
        on_close: Called with the path of a closed document.
    """

    def __init__(
        self,
        root: Path,
        position_encoding: str,
        on_text: Callable[[Path, str, int | None], None],
        on_close: Callable[[Path], None],
    ) -> None:
        self._root = root
        self._encoding = position_encoding
        self._on_text = on_text
        self._on_close = on_close
        self._store: Any = None
        self._pending: list[tuple[str, Any]] = []
        self._loading: asyncio.Future[None] | None = None

    def handle(self, method: str, params: Any) -> None:
        """Apply one ``textDocument/did*`` notification (queued until the model is loaded)."""
        if self._store is not None and not self._pending:
            self._apply(method, params)
            return
        self._pending.append((method, params))
        self._load()

    async def settled(self) -> None:
        """Wait until every notification received so far has been applied."""
        if self._loading is not None and not self._loading.done():
            await asyncio.shield(self._loading)

    def _load(self) -> None:
        if self._loading is None:
            self._loading = asyncio.ensure_future(self._load_model())

    async def _load_model(self) -> None:
        try:
            await asyncio.to_thread(_import_model)
            from pygls.workspace import Workspace as DocumentStore

            self._store = DocumentStore(self._root.as_uri(), position_encoding=self._encoding)
        except Exception as exc:  # never expected; the documents are then simply not mirrored
            logger.opt(exception=exc).error("cannot load the document model; open buffers ignored")
            self._pending.clear()
            return
        pending, self._pending = self._pending, []
        for method, params in pending:
            self._apply(method, params)

    # -- applying ----------------------------------------------------------------------------

    def _apply(self, method: str, params: Any) -> None:
        from lsprotocol import types

        if method == "textDocument/didOpen":
            opened = _structure(params, types.DidOpenTextDocumentParams)
            if opened is not None:
                self._store.put_text_document(opened.text_document)
                self._mirror(opened.text_document.uri)
        elif method == "textDocument/didChange":
            changed = _structure(params, types.DidChangeTextDocumentParams)
            if changed is None:
                return
            try:
                for change in changed.content_changes:
                    self._store.update_text_document(changed.text_document, change)
            except Exception as exc:  # a change to a document never opened, a bad range, ...
                logger.warning("cannot apply a change to {}: {}", changed.text_document.uri, exc)
                return
            self._mirror(changed.text_document.uri)
        elif method == "textDocument/didClose":
            closed = _structure(params, types.DidCloseTextDocumentParams)
            if closed is None:
                return
            uri = closed.text_document.uri
            with contextlib.suppress(Exception):
                self._store.remove_text_document(uri)
            path = wire.uri_to_path(uri)
            if path is not None:
                self._on_close(path)

    def _mirror(self, uri: str) -> None:
        """Copy the document model's view of an open document into the tools' overlay."""
        path = wire.uri_to_path(uri)
        if path is None:
            return
        try:
            doc = self._store.get_text_document(uri)
            self._on_text(path, doc.source, doc.version)
        except (OSError, ValueError) as exc:
            logger.warning("cannot mirror {}: {}", uri, exc)


def _structure(params: Any, cls: type[Any]) -> Any:
    from lsprotocol.converters import get_converter

    try:
        return get_converter().structure(params, cls)
    except Exception as exc:  # a notification: log it, there is nobody to answer
        logger.warning("ignored malformed {}: {}", cls.__name__, exc)
        return None
