"""Costs added by issue #12: the edit review payload and the workspace-file link rule.

* ``_meta.pygent.files`` of a ``workspace/applyEdit`` for an edit of a 10 MB file: building it
  and the extra JSON it adds (the whole text before and after; budget 50 ms to build).
* The TUI's Markdown parser with the workspace-file rule against the plain "gfm-like" parser, on a
  20 KB answer full of file names (budget: within 2x of the plain parser).

Run with ``python -m pytest tests/benchmarks/test_review_bench.py --benchmark-only -s``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from _budget import report_budget, report_ratio

from pygent.edits.changes import ChangeSet, TextChange
from pygent.server.port import edit_files_meta

BUDGET_META_S = 0.050
RATIO_LINKS = 2.0


def test_files_meta_of_a_ten_megabyte_edit(benchmark: Any, tmp_path: Path) -> None:
    line = "x = 1  # some code on a line of typical length, here for the size\n"
    old = line * (10 * 1024 * 1024 // len(line))
    new = old.replace("x = 1", "x = 2", 1)
    change_set = ChangeSet("Edit big.py", [TextChange(tmp_path / "big.py", old, new)], "", "c1")
    files = benchmark(edit_files_meta, change_set)
    assert files[0]["newText"].startswith("x = 2") and files[0]["oldText"] == old
    started = time.perf_counter()
    encoded = json.dumps({"_meta": {"pygent": {"files": files}}})
    encode_s = time.perf_counter() - started
    benchmark.extra_info["meta_bytes"] = len(encoded)
    benchmark.extra_info["json_encode_ms"] = round(encode_s * 1000, 3)
    report_budget(
        benchmark, "files meta of a 10 MB edit", benchmark.stats.stats.median, BUDGET_META_S
    )
    print(f"  adds {len(encoded) / 1e6:.1f} MB of JSON, encoded in {encode_s * 1000:.1f} ms")


def test_link_rule_overhead_on_a_long_answer(benchmark: Any, tmp_path: Path) -> None:
    from markdown_it import MarkdownIt

    from pygent.tui.links import markdown_parser

    (tmp_path / "src").mkdir()
    for name in ("app.py", "README.md", "src/x.py"):
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    paragraph = (
        "In app.py the handler calls `src/x.py:42`, see README.md and https://docs.python.org/3/ "
        "for details; main.rs and setup.sh are not here. Then **bold** and `code`.\n\n"
    )
    text = paragraph * (20_000 // len(paragraph))
    ours = markdown_parser(tmp_path)()
    plain = MarkdownIt("gfm-like")
    html = benchmark(ours.render, text)
    assert "http://app.py" not in html and (tmp_path / "app.py").as_uri() in html
    rounds = 5
    started = time.perf_counter()
    for _ in range(rounds):
        plain.render(text)
    reference = (time.perf_counter() - started) / rounds
    report_ratio(
        benchmark,
        "Markdown with file links vs plain",
        benchmark.stats.stats.median,
        reference,
        RATIO_LINKS,
    )
