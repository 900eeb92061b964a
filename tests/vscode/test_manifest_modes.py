"""The VS Code settings schema lists pygent's permission modes: it must match the server's list.

A settings schema is static (VS Code reads it before any server runs), so ``package.json`` keeps the
one copy of the mode ids the extension has; this test fails when it drifts from
``pygent.protocol.modes``.
"""

from __future__ import annotations

import json
from pathlib import Path

from pygent.protocol.modes import MODE_DESCRIPTIONS, PERMISSION_MODES

MANIFEST = Path(__file__).resolve().parents[2] / "editors" / "vscode" / "package.json"


def test_permission_mode_setting_lists_the_servers_modes_with_their_descriptions() -> None:
    setting = json.loads(MANIFEST.read_text(encoding="utf-8"))["contributes"]["configuration"][
        "properties"
    ]["pygent.permissionMode"]
    assert setting["enum"] == ["", *PERMISSION_MODES]
    assert setting["enumDescriptions"][1:] == [MODE_DESCRIPTIONS[m] for m in PERMISSION_MODES]
    assert setting["default"] == ""
