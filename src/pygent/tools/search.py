"""Search tools: ``grep`` (ripgrep), ``find_files`` (glob, newest first), ``find_definition`` (tree-sitter).

ripgrep comes from the PyPI ``ripgrep`` package, which installs ``rg`` next to the Python
interpreter; it respects ``.gitignore`` (also outside git repositories: ``--no-require-git``) and skips
``.git``. Paths in results are relative to the workspace root.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from pygent.tools.base import ToolContext, ToolOutput, ToolRisk, tool
from pygent.tools.errors import ToolError

__all__ = ["find_definition", "find_files", "grep", "rg_executable"]

MAX_FIND_RESULTS = 200
"""``find_files`` shows at most this many paths."""
MAX_DEFINITION_FILES = 500
"""``find_definition`` parses at most this many candidate files."""
MAX_DEFINITIONS = 100
MAX_PARSE_BYTES = 2 * 1024 * 1024
"""Source files larger than this (usually generated or minified) are not parsed."""
RG_TIMEOUT = 60.0
"""Seconds before a ripgrep run is stopped."""
MAX_COLUMNS = 500

_COMMON_FLAGS = (
    "--no-config",
    "--hidden",
    "--glob=!.git",
    "--no-require-git",
    "--color=never",
)

_rg_cache: str | None = None


def rg_executable() -> str:
    """The ``rg`` binary: next to the running interpreter (the ``ripgrep`` wheel), else on PATH.

    Raises:
        ToolError: when ripgrep is not installed.
    """
    global _rg_cache
    if _rg_cache is not None:
        return _rg_cache
    name = "rg.exe" if os.name == "nt" else "rg"
    candidates = [Path(sys.executable).parent / name]
    with contextlib.suppress(KeyError, TypeError):
        candidates.append(Path(sysconfig.get_path("scripts")) / name)
    for candidate in candidates:
        if candidate.is_file():
            _rg_cache = str(candidate)
            return _rg_cache
    found = shutil.which("rg")
    if found:
        _rg_cache = found
        return found
    raise ToolError(
        "ripgrep (rg) is not installed, so search is unavailable. Install it with "
        "`pip install 'ripgrep>=14.1,<15'` in pygent's environment."
    )


@dataclass
class _RgRun:
    stdout: bytes
    stderr: str
    returncode: int | None
    stopped_early: bool


def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, OSError):
            proc.kill()


async def _run_rg(args: list[str], cwd: Path, *, stop_after: int | None = None) -> _RgRun:
    """Run rg; with ``stop_after``, stop it once more than that many match lines were read."""
    proc = await asyncio.create_subprocess_exec(
        rg_executable(),
        *args,
        cwd=str(cwd),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = proc.stdout, proc.stderr
    assert stdout is not None and stderr is not None
    stderr_task = asyncio.ensure_future(stderr.read())
    chunks: list[bytes] = []
    stopped = False

    async def pump() -> None:
        nonlocal stopped
        matches = 0
        while True:
            chunk = await stdout.read(1 << 16)
            if not chunk:
                return
            chunks.append(chunk)
            if stop_after is not None:
                matches += len(_MATCH_MARK.findall(chunk))
                if matches > stop_after:
                    stopped = True
                    return

    try:
        await asyncio.wait_for(pump(), RG_TIMEOUT)
    except asyncio.TimeoutError:
        _kill(proc)
        await proc.wait()
        stderr_task.cancel()
        raise ToolError(
            f"The search took longer than {RG_TIMEOUT:.0f} seconds and was stopped. "
            "Narrow the path or the pattern."
        ) from None
    except BaseException:  # cancelled: never leave rg running
        _kill(proc)
        stderr_task.cancel()
        raise
    if stopped:
        _kill(proc)
        # Drain what is left in the pipe so the transport closes cleanly.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(stdout.read(), 5)
    await proc.wait()
    err = await stderr_task
    return _RgRun(b"".join(chunks), err.decode("utf-8", errors="replace"), proc.returncode, stopped)


_MATCH_MARK = re.compile(rb"\x00\d+:")


def _rg_error(stderr: str, what: str) -> ToolError:
    lines = [
        line.removeprefix("rg: ").rstrip() for line in stderr.strip().splitlines() if line.strip()
    ]
    message = "\n".join(lines[:12]) or "ripgrep failed without a message"
    return ToolError(f"{what}:\n{message}")


def _search_root(ctx: ToolContext, path: str) -> tuple[Path, str, Path | None]:
    """(directory rg runs in, its display prefix, single file to search or None)."""
    resolved = ctx.workspace.resolve(path)
    display = ctx.workspace.display(resolved)
    if not resolved.exists():
        raise ToolError(f"{display} does not exist. Use list_directory or find_files to locate it.")
    if resolved.is_dir():
        return resolved, "" if display == "." else display + "/", None
    parent = resolved.parent
    parent_display = ctx.workspace.display(parent)
    return parent, "" if parent_display == "." else parent_display + "/", resolved


def _rel(raw: bytes, prefix: str) -> str:
    text = raw.decode("utf-8", errors="replace")
    if text.startswith("./") or text.startswith(".\\"):
        text = text[2:]
    if os.sep != "/":
        text = text.replace(os.sep, "/")
    return prefix + text


# -- grep -----------------------------------------------------------------------------------


@tool(
    risk=ToolRisk.READ,
    kind="search",
    title=lambda a: (
        f"Grep `{a['pattern']}`" + (f" in {a['path']}" if a.get("path", ".") != "." else "")
    ),
    rule_arg="pattern",
    path_args=("path",),
)
async def grep(
    ctx: ToolContext,
    pattern: str,
    path: str = ".",
    glob: str | None = None,
    ignore_case: bool = False,
    context: int = 0,
    max_results: int = 200,
) -> ToolOutput:
    """Search file contents with a regular expression (ripgrep syntax), respecting .gitignore.

    Results are `path:line: text` (context lines `path-line- text`), paths relative to the workspace.

    Args:
        pattern: Regular expression (Rust regex syntax, like ripgrep; escape literal `(`, `.`, etc.).
        path: File or directory to search, relative to the workspace root.
        glob: Only search files matching this glob, e.g. `*.py` or `src/**/*.ts`.
        ignore_case: Match case-insensitively.
        context: Lines of context to show before and after each match (0-10).
        max_results: Stop after this many matching lines (1-2000).
    """
    if not pattern:
        raise ToolError("pattern is empty; give a regular expression to search for.")
    if not 0 <= context <= 10:
        raise ToolError(f"context must be between 0 and 10, got {context}.")
    if not 1 <= max_results <= 2000:
        raise ToolError(f"max_results must be between 1 and 2000, got {max_results}.")
    cwd, prefix, single = _search_root(ctx, path)
    args = [
        *_COMMON_FLAGS,
        "--null",
        "--line-number",
        "--with-filename",
        "--no-heading",
        f"--max-columns={MAX_COLUMNS}",
        "--max-columns-preview",
    ]
    if ignore_case:
        args.append("--ignore-case")
    if context:
        args.append(f"--context={context}")
    if glob:
        args += ["--glob", glob]
    args += ["--regexp", pattern]
    if single is not None:
        args += ["--", single.name]
    run = await _run_rg(args, cwd, stop_after=max_results)
    if run.returncode == 2 and not run.stdout:
        if "glob" in run.stderr:
            what = f"Invalid glob {glob!r}"
        elif "regex" in run.stderr:
            what = f"Invalid regular expression {pattern!r} (ripgrep / Rust regex syntax)"
        else:
            what = f"grep failed for pattern {pattern!r}"
        raise _rg_error(run.stderr, what)
    results: list[str] = []
    matches = 0
    more = run.stopped_early
    files: set[str] = set()
    for raw in run.stdout.split(b"\n"):
        if not raw:
            continue
        if raw == b"--":
            if results and results[-1] != "--":
                results.append("--")
            continue
        file_part, sep, rest = raw.partition(b"\x00")
        if not sep:
            continue
        m = re.match(rb"(\d+)([:-])", rest)
        if m is None:
            continue
        is_match = m.group(2) == b":"
        if is_match:
            if matches >= max_results:
                more = True
                break
            matches += 1
        rel = _rel(file_part, prefix)
        files.add(rel)
        text = rest[m.end() :].decode("utf-8", errors="replace").rstrip("\r")
        mark = ":" if is_match else "-"
        results.append(f"{rel}{mark}{int(m.group(1))}{mark} {text}")
    while results and results[-1] == "--":
        results.pop()
    if not matches:
        where = ctx.workspace.display(single) if single is not None else (prefix.rstrip("/") or ".")
        note = f" (only files matching {glob!r})" if glob else ""
        return ToolOutput(
            f"No matches for {pattern!r} in {where}{note}.", raw_output={"matches": 0}
        )
    text = "\n".join(results)
    capped = more
    if capped:
        text += (
            f"\n\n[Stopped after {max_results} matches; there are more. Narrow the pattern, path "
            "or glob, or raise max_results.]"
        )
    if run.returncode == 2 and run.stderr.strip():
        first = run.stderr.strip().splitlines()[0].removeprefix("rg: ")
        text += f"\n\n[Some files could not be searched: {first}]"
    return ToolOutput(
        text, raw_output={"matches": matches, "files": len(files), "capped": bool(capped)}
    )


# -- find_files -----------------------------------------------------------------------------


@tool(
    risk=ToolRisk.READ,
    kind="search",
    title=lambda a: (
        f"Find `{a['pattern']}`" + (f" in {a['path']}" if a.get("path", ".") != "." else "")
    ),
    rule_arg="pattern",
    path_args=("path",),
)
async def find_files(ctx: ToolContext, pattern: str, path: str = ".") -> ToolOutput:
    """Find files by glob pattern (e.g. `*.py`, `src/**/test_*.ts`), newest first, respecting .gitignore.

    A pattern without `/` matches file names at any depth; one with `/` matches paths relative to
    `path`. At most 200 paths are shown.

    Args:
        pattern: Glob pattern (`*`, `?`, `**`, `[abc]`, `{a,b}`).
        path: Directory to search in, relative to the workspace root.
    """
    if not pattern.strip():
        raise ToolError("pattern is empty; give a glob such as '*.py' or 'src/**/*.ts'.")
    resolved = ctx.workspace.resolve(path)
    display = ctx.workspace.display(resolved)
    if not resolved.exists():
        raise ToolError(f"{display} does not exist. Use list_directory to see what is there.")
    if not resolved.is_dir():
        raise ToolError(f"{display} is a file, not a directory; give the directory to search in.")
    prefix = "" if display == "." else display + "/"
    args = [*_COMMON_FLAGS, "--files", "--null", "--glob", pattern]
    run = await _run_rg(args, resolved)
    if run.returncode == 2 and not run.stdout:
        raise _rg_error(run.stderr, f"Invalid glob pattern {pattern!r}")
    names = [name for name in run.stdout.split(b"\x00") if name]

    def newest_first() -> list[tuple[float, str]]:
        stamped: list[tuple[float, str]] = []
        for name in names:
            try:
                mtime = (resolved / os.fsdecode(name)).stat().st_mtime
            except OSError:
                mtime = 0.0
            stamped.append((mtime, _rel(name, prefix)))
        stamped.sort(key=lambda item: (-item[0], item[1]))
        return stamped

    stamped = await asyncio.to_thread(newest_first)
    if not stamped:
        return ToolOutput(
            f"No files match {pattern!r} in {display} (files ignored by .gitignore are not searched).",
            raw_output={"count": 0},
        )
    shown = [rel for _mtime, rel in stamped[:MAX_FIND_RESULTS]]
    text = "\n".join(shown)
    if len(stamped) > MAX_FIND_RESULTS:
        text += (
            f"\n\n[{len(stamped)} files match; showing the {MAX_FIND_RESULTS} most recently "
            "modified. Use a narrower pattern or path to see others.]"
        )
    return ToolOutput(text, raw_output={"count": len(stamped), "shown": len(shown)})


# -- find_definition ------------------------------------------------------------------------

_SYMBOL = re.compile(r"^[A-Za-z_$~][\w$]*$")


@tool(
    risk=ToolRisk.READ,
    kind="search",
    title=lambda a: f"Find definition of `{a['symbol']}`",
    rule_arg="symbol",
    path_args=("path",),
)
async def find_definition(ctx: ToolContext, symbol: str, path: str = ".") -> ToolOutput:
    """Find where a function, class, method, struct, interface or type is defined.

    Understands Python, JavaScript, TypeScript, Go, Rust, Java, C and C++. Results are
    `path:line: signature line`.

    Args:
        symbol: The name to look up (`parse`, `Parser`; `Parser.parse` looks up `parse`).
        path: File or directory to search, relative to the workspace root.
    """
    from pygent.tools import treesitter

    name = re.split(r"\.|::|#", symbol.strip())[-1]
    if not _SYMBOL.match(name):
        raise ToolError(
            f"{symbol!r} is not an identifier; give a function, class or type name such as 'parse_args'."
        )
    cwd, prefix, single = _search_root(ctx, path)
    if single is not None:
        if treesitter.language_for(single) is None:
            supported = " ".join(sorted(treesitter.LANGUAGE_BY_SUFFIX))
            raise ToolError(
                f"{ctx.workspace.display(single)} is not a supported source file ({supported})."
            )
        candidates = [single]
    else:
        args = [
            *_COMMON_FLAGS,
            "--files-with-matches",
            "--null",
            "--fixed-strings",
            "--word-regexp",
        ]
        for suffix in treesitter.LANGUAGE_BY_SUFFIX:
            args += ["--glob", f"*{suffix}"]
        args += ["--regexp", name.lstrip("~")]
        run = await _run_rg(args, cwd)
        if run.returncode == 2 and not run.stdout:
            raise _rg_error(run.stderr, "Searching for candidate files failed")
        candidates = [cwd / os.fsdecode(n) for n in run.stdout.split(b"\x00") if n]
        candidates.sort()
    skipped = max(0, len(candidates) - MAX_DEFINITION_FILES)
    candidates = candidates[:MAX_DEFINITION_FILES]

    too_big: list[Path] = []

    def collect() -> list[tuple[Path, treesitter.Definition]]:
        found: list[tuple[Path, treesitter.Definition]] = []
        for file in candidates:
            try:
                if file.stat().st_size > MAX_PARSE_BYTES:
                    too_big.append(file)
                    continue
                defs = treesitter.definitions_in(file)
            except (OSError, ValueError):
                continue
            found += [(file, d) for d in defs if d.name == name]
        return found

    found = await asyncio.to_thread(collect)
    big_note = ""
    if too_big:
        shown = ", ".join(ctx.workspace.display(p) for p in too_big[:5])
        big_note = (
            f"\n\n[{len(too_big)} file(s) over {MAX_PARSE_BYTES // (1024 * 1024)} MB were not parsed "
            f"({shown}); use grep to search them.]"
        )
    if not found:
        where = ctx.workspace.display(single) if single is not None else (prefix.rstrip("/") or ".")
        return ToolOutput(
            f"No definition of {name!r} found in {where}. Try grep for other uses of the name."
            + big_note,
            raw_output={"count": 0},
        )
    lines = [
        f"{ctx.workspace.display(file)}:{d.line}: {d.signature}"
        for file, d in found[:MAX_DEFINITIONS]
    ]
    text = "\n".join(lines)
    if len(found) > MAX_DEFINITIONS:
        text += (
            f"\n\n[{len(found)} definitions; showing the first {MAX_DEFINITIONS}. Narrow the path.]"
        )
    if skipped:
        text += f"\n\n[{skipped} more candidate files were not parsed. Narrow the path.]"
    text += big_note
    return ToolOutput(
        text,
        raw_output={
            "count": len(found),
            "definitions": [
                {"path": str(file), "line": d.line, "kind": d.kind, "name": d.name}
                for file, d in found[:MAX_DEFINITIONS]
            ],
        },
    )
