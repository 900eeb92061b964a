"""grep, find_files and find_definition with the real rg binary and real tree-sitter grammars."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from _tool_testkit import registry_of

from pygent.agent.headless import HeadlessPort
from pygent.settings.models import Settings
from pygent.tools import search, treesitter
from pygent.tools.base import ToolContext, ToolResult, dispatch
from pygent.tools.workspace import Workspace

REGISTRY = registry_of(search.grep, search.find_files, search.find_definition)


@pytest.fixture
def ctx(root: Path) -> ToolContext:
    return ToolContext(Workspace([root]), Settings(), HeadlessPort(stderr=None), tool_call_id="c")


async def call(ctx: ToolContext, name: str, **args: Any) -> ToolResult:
    return await dispatch(REGISTRY, name, args, ctx)


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def make_tree(root: Path) -> None:
    write(root, ".gitignore", "build/\n*.min.js\n")
    write(root, "src/app.py", "import os\n\ndef handler(event):\n    return event\n")
    write(root, "src/util.py", "def helper():\n    return 'Handler'\n")
    write(root, "build/gen.py", "def handler(): pass\n")
    write(root, "web/app.min.js", "function handler(){}\n")
    write(root, ".github/workflow.yml", "name: handler\n")
    write(root, ".git/config", "handler = true\n")


def test_rg_executable_is_found_next_to_python() -> None:
    rg = search.rg_executable()
    assert Path(rg).is_file()
    assert os.access(rg, os.X_OK)


# -- grep ------------------------------------------------------------------------------------


async def test_grep_reports_relative_path_line_and_text(ctx: ToolContext, root: Path) -> None:
    make_tree(root)
    result = await call(ctx, "grep", pattern=r"def handler")
    assert not result.is_error, result.text
    assert result.text == "src/app.py:3: def handler(event):"


async def test_grep_respects_gitignore_without_git_and_skips_dot_git(
    ctx: ToolContext, root: Path
) -> None:
    make_tree(root)
    result = await call(ctx, "grep", pattern="handler")
    paths = {line.split(":")[0] for line in result.text.splitlines()}
    assert "src/app.py" in paths
    assert ".github/workflow.yml" in paths  # hidden files are searched
    assert not any(p.startswith(("build/", "web/", ".git/")) for p in paths)


async def test_grep_ignore_case_glob_and_path(ctx: ToolContext, root: Path) -> None:
    make_tree(root)
    insensitive = await call(ctx, "grep", pattern="HANDLER", ignore_case=True, glob="*.py")
    assert "src/util.py:2:     return 'Handler'" in insensitive.text.splitlines()
    assert "src/app.py:3: def handler(event):" in insensitive.text.splitlines()
    assert ".github" not in insensitive.text
    in_dir = await call(ctx, "grep", pattern="return", path="src")
    assert sorted(in_dir.text.splitlines()) == [
        "src/app.py:4:     return event",
        "src/util.py:2:     return 'Handler'",
    ]
    one_file = await call(ctx, "grep", pattern="return", path="src/util.py")
    assert one_file.text == "src/util.py:2:     return 'Handler'"


async def test_grep_context_lines(ctx: ToolContext, root: Path) -> None:
    write(root, "f.txt", "a\nb\nMATCH\nc\nd\n")
    result = await call(ctx, "grep", pattern="MATCH", context=1)
    assert result.text.splitlines() == ["f.txt-2- b", "f.txt:3: MATCH", "f.txt-4- c"]


async def test_grep_caps_results_with_a_note(ctx: ToolContext, root: Path) -> None:
    write(root, "many.txt", "hit\n" * 500)
    result = await call(ctx, "grep", pattern="hit", max_results=10)
    assert len([line for line in result.text.splitlines() if ":" in line and "hit" in line]) == 10
    assert "Stopped after 10 matches" in result.text
    assert result.raw_output is not None and result.raw_output["capped"] is True


async def test_grep_exact_cap_is_not_reported_as_more(ctx: ToolContext, root: Path) -> None:
    write(root, "few.txt", "hit\n" * 3)
    result = await call(ctx, "grep", pattern="hit", max_results=3)
    assert "Stopped" not in result.text
    assert len(result.text.splitlines()) == 3


async def test_grep_invalid_regex_gives_rg_message(ctx: ToolContext, root: Path) -> None:
    write(root, "f.txt", "x\n")
    result = await call(ctx, "grep", pattern="foo(")
    assert result.is_error
    assert "Invalid regular expression 'foo('" in result.text
    assert "unclosed group" in result.text
    assert (root / "f.txt").read_text() == "x\n"


async def test_grep_invalid_glob(ctx: ToolContext, root: Path) -> None:
    write(root, "f.txt", "x\n")
    result = await call(ctx, "grep", pattern="x", glob="[abc")
    assert result.is_error
    assert "Invalid glob '[abc'" in result.text and "unclosed character class" in result.text


async def test_grep_no_matches(ctx: ToolContext, root: Path) -> None:
    write(root, "f.txt", "x\n")
    result = await call(ctx, "grep", pattern="nothing-here")
    assert not result.is_error and result.text.startswith("No matches for 'nothing-here'")


async def test_grep_bad_paths(ctx: ToolContext, root: Path) -> None:
    missing = await call(ctx, "grep", pattern="x", path="nope")
    assert missing.is_error and "does not exist" in missing.text
    escape = await call(ctx, "grep", pattern="x", path="../")
    assert escape.is_error and "outside the workspace" in escape.text
    bad_context = await call(ctx, "grep", pattern="x", context=99)
    assert bad_context.is_error and "context" in bad_context.text


async def test_grep_pattern_starting_with_dash(ctx: ToolContext, root: Path) -> None:
    write(root, "f.txt", "a --verbose flag\n")
    result = await call(ctx, "grep", pattern="--verbose")
    assert result.text == "f.txt:1: a --verbose flag"


# -- find_files --------------------------------------------------------------------------------


async def test_find_files_newest_first_and_gitignore(ctx: ToolContext, root: Path) -> None:
    make_tree(root)
    now = time.time()
    os.utime(root / "src/app.py", (now - 100, now - 100))
    os.utime(root / "src/util.py", (now - 10, now - 10))
    result = await call(ctx, "find_files", pattern="*.py")
    assert result.text.splitlines() == ["src/util.py", "src/app.py"]


async def test_find_files_in_subdirectory_with_path_glob(ctx: ToolContext, root: Path) -> None:
    write(root, "pkg/tests/test_a.py", "")
    write(root, "pkg/tests/helper.py", "")
    write(root, "pkg/deep/tests/test_b.py", "")
    result = await call(ctx, "find_files", pattern="**/test_*.py", path="pkg")
    assert sorted(result.text.splitlines()) == ["pkg/deep/tests/test_b.py", "pkg/tests/test_a.py"]


async def test_find_files_caps_results(
    ctx: ToolContext, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "MAX_FIND_RESULTS", 3)
    for i in range(7):
        write(root, f"f{i}.txt", "")
    result = await call(ctx, "find_files", pattern="*.txt")
    assert len([line for line in result.text.splitlines() if line.endswith(".txt")]) == 3
    assert "7 files match; showing the 3 most recently modified" in result.text


async def test_find_files_invalid_glob_and_bad_paths(ctx: ToolContext, root: Path) -> None:
    write(root, "f.txt", "")
    invalid = await call(ctx, "find_files", pattern="{a,b")
    assert invalid.is_error and "Invalid glob pattern '{a,b'" in invalid.text
    not_dir = await call(ctx, "find_files", pattern="*", path="f.txt")
    assert not_dir.is_error and "is a file" in not_dir.text
    escape = await call(ctx, "find_files", pattern="*", path="/")
    assert escape.is_error and "outside the workspace" in escape.text
    none = await call(ctx, "find_files", pattern="*.rs")
    assert not none.is_error and none.text.startswith("No files match")


# -- find_definition ---------------------------------------------------------------------------

SOURCES = {
    "py/mod.py": "@decorator\ndef target(a, b):\n    pass\n\nclass Target:\n    def method(self): ...\n",
    "js/app.js": "function target(x) {}\nclass Widget { render() {} }\nconst arrow = () => 1;\n",
    "ts/api.ts": "export interface Options { a: number }\nexport type Alias = string;\n"
    "export function target(o: Options): void {}\n",
    "ts/view.tsx": "export function Page() { return <div/>; }\n",
    "go/server.go": "package main\n\ntype Server struct{}\n\nfunc (s *Server) Start() error { return nil }\n",
    "rs/lib.rs": "pub struct Config { a: u8 }\n\npub trait Runner { fn run(&self); }\n\nfn target() {}\n",
    "java/App.java": "public class App {\n    void target(int x) {}\n}\n",
    "c/point.c": "struct point { int x; };\n\nstatic char *target(int x) { return 0; }\n",
    "cpp/widget.cpp": "namespace ui {\nclass Widget { void draw(); };\n}\nvoid ui::Widget::draw() {}\n",
}


@pytest.fixture
def code_tree(root: Path) -> Path:
    for rel, text in SOURCES.items():
        write(root, rel, text)
    write(root, "py/uses.py", "from mod import target\ntarget(1, 2)\n")
    return root


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [
        ("target", "py/mod.py:2: def target(a, b):"),
        ("Target", "py/mod.py:5: class Target:"),
        ("method", "py/mod.py:6: def method(self): ..."),
        ("Widget", "js/app.js:2: class Widget { render() {} }"),
        ("arrow", "js/app.js:3: const arrow = () => 1;"),
        ("Options", "ts/api.ts:1: export interface Options { a: number }"),
        ("Alias", "ts/api.ts:2: export type Alias = string;"),
        ("Page", "ts/view.tsx:1: export function Page() { return <div/>; }"),
        ("Server", "go/server.go:3: type Server struct{}"),
        ("Start", "go/server.go:5: func (s *Server) Start() error { return nil }"),
        ("Config", "rs/lib.rs:1: pub struct Config { a: u8 }"),
        ("Runner", "rs/lib.rs:3: pub trait Runner { fn run(&self); }"),
        ("App", "java/App.java:1: public class App {"),
        ("point", "c/point.c:1: struct point { int x; };"),
        ("ui::Widget::draw", "cpp/widget.cpp:4: void ui::Widget::draw() {}"),
    ],
)
async def test_find_definition_per_language(
    ctx: ToolContext, code_tree: Path, symbol: str, expected: str
) -> None:
    result = await call(ctx, "find_definition", symbol=symbol)
    assert not result.is_error, result.text
    assert expected in result.text.splitlines()


async def test_find_definition_lists_every_language_and_skips_uses(
    ctx: ToolContext, code_tree: Path
) -> None:
    result = await call(ctx, "find_definition", symbol="target")
    lines = result.text.splitlines()
    assert {line.split(":")[0] for line in lines} == {
        "py/mod.py",
        "js/app.js",
        "ts/api.ts",
        "rs/lib.rs",
        "java/App.java",
        "c/point.c",
    }
    assert "java/App.java:2: void target(int x) {}" in lines
    assert "c/point.c:3: static char *target(int x) { return 0; }" in lines
    assert not any(line.startswith("py/uses.py") for line in lines)


async def test_find_definition_caches_by_mtime(ctx: ToolContext, code_tree: Path) -> None:
    treesitter.clear_cache()
    await call(ctx, "find_definition", symbol="target", path="py")
    parsed = treesitter.parse_count
    await call(ctx, "find_definition", symbol="target", path="py")
    assert treesitter.parse_count == parsed  # served from the cache
    path = code_tree / "py" / "mod.py"
    path.write_text("def other():\n    pass\n\n\ndef target():\n    pass\n")
    later = time.time() + 5
    os.utime(path, (later, later))
    result = await call(ctx, "find_definition", symbol="target", path="py")
    assert treesitter.parse_count == parsed + 1
    assert result.text == "py/mod.py:5: def target():"


async def test_find_definition_in_one_file(ctx: ToolContext, code_tree: Path) -> None:
    result = await call(ctx, "find_definition", symbol="Widget", path="cpp/widget.cpp")
    assert result.text == "cpp/widget.cpp:2: class Widget { void draw(); };"


async def test_find_definition_bad_inputs(ctx: ToolContext, code_tree: Path) -> None:
    write(code_tree, "notes.txt", "target\n")
    not_ident = await call(ctx, "find_definition", symbol="a b(")
    assert not_ident.is_error and "not an identifier" in not_ident.text
    unsupported = await call(ctx, "find_definition", symbol="target", path="notes.txt")
    assert unsupported.is_error and "not a supported source file" in unsupported.text
    missing = await call(ctx, "find_definition", symbol="nowhere_defined")
    assert not missing.is_error and "No definition of 'nowhere_defined'" in missing.text
    escape = await call(ctx, "find_definition", symbol="target", path="..")
    assert escape.is_error and "outside the workspace" in escape.text


async def test_find_definition_skips_huge_files_and_says_so(
    ctx: ToolContext, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "MAX_PARSE_BYTES", 100)
    write(root, "gen/bundle.js", "function target() {}\n" + "// filler\n" * 50)
    write(root, "src/small.py", "def target():\n    pass\n")
    result = await call(ctx, "find_definition", symbol="target")
    assert "src/small.py:1: def target():" in result.text
    assert "gen/bundle.js" in result.text and "were not parsed" in result.text


class ProcessRecorder:
    """Wraps asyncio.create_subprocess_exec to keep the real processes the tool starts.

    With ``endless=True`` the search started is a real process that never finishes on its own
    (a sleeping interpreter stands in for rg), so a test sees what the tool does to a search
    that outlives its timeout or its turn, with no race against a fast rg.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, endless: bool = False) -> None:
        import asyncio

        self.processes: list[Any] = []
        original = asyncio.create_subprocess_exec

        async def spawn(*args: Any, **kwargs: Any) -> Any:
            if endless:
                args = (sys.executable, "-c", "import time; time.sleep(120)")
            proc = await original(*args, **kwargs)
            self.processes.append(proc)
            return proc

        monkeypatch.setattr(asyncio, "create_subprocess_exec", spawn)


def assert_killed(proc: Any) -> None:
    """The process is gone, ended by a kill (it would have run for two minutes)."""
    assert proc.returncode is not None
    if sys.platform != "win32":
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode != 0


async def test_grep_timeout_kills_rg_and_says_so(
    ctx: ToolContext, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = ProcessRecorder(monkeypatch, endless=True)
    monkeypatch.setattr(search, "RG_TIMEOUT", 0.5)
    result = await call(ctx, "grep", pattern="no such text anywhere")
    assert result.is_error and "was stopped" in result.text
    [proc] = recorder.processes
    assert_killed(proc)


async def test_cancelled_grep_leaves_no_rg_running(
    ctx: ToolContext, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    recorder = ProcessRecorder(monkeypatch, endless=True)
    task = asyncio.ensure_future(call(ctx, "grep", pattern="no such text anywhere"))
    for _ in range(200):
        if recorder.processes:
            break
        await asyncio.sleep(0.001)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [proc] = recorder.processes
    await asyncio.wait_for(proc.wait(), 5)
    assert_killed(proc)
