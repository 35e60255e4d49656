"""Compares a notebook's stored outputs with a fresh execution's (`run_all.sh` calls it).

The notebooks are stored with their outputs, so a student can read them on a repository
page without running anything. CI executes them again and fails when a stored output no
longer matches what the code produces now:

* **Same mode only.** The stored outputs record the mode they were made in
  (`metadata.rtsim.quick`); comparing a quick run with a full one would be meaningless,
  so a mode mismatch is an error, not a pass.
* **Text is compared, numbers with a tolerance.** Every code cell's text outputs (its
  printed stream, its result's `text/plain`, Markdown) are split into numbers and the
  text between them. The text must be equal; each number must be within a relative
  1e-4 (absolute 1e-12 near zero). rtsim is deterministic — the same code prints the
  same digits for any build or machine — so the tolerance is not for the simulation: it
  absorbs the last printed digit when another numpy/pandas version rounds a float
  differently (pandas prints 6 significant digits). A change in the model that matters
  to a lesson moves its figures by far more.
* **What differs by nature is masked**: wall-clock times (`finished in 1.2 s wall
  time`) and the repository's absolute path. Images are compared by count and type
  only (their bytes depend on the matplotlib and font versions); the numbers they draw
  are printed beside them in the cells that matter.

    python check_outputs.py STORED.ipynb EXECUTED.ipynb   # exit 1 with the differences
    python check_outputs.py --self-test                   # the comparison can fail
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

REL_TOL = 1e-4
ABS_TOL = 1e-12

NUMBER = re.compile(r"[-+]?(?:\d[\d,]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
MASKS = [
    (re.compile(r"finished in [\d.]+ s wall time"), "finished in <wall> s wall time"),
    (re.compile(r"in [\d.]+ s wall"), "in <wall> s wall"),
]


def mode(nb: dict) -> object:
    return nb.get("metadata", {}).get("rtsim", {}).get("quick")


def texts(nb: dict, root: str) -> list[list[str]]:
    """Per code cell: its outputs as comparable strings."""
    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        out = []
        # The kernel splits a stream into outputs, and interleaves stdout with stderr, by
        # when it flushed: timing, not content. Each stream is compared as one text.
        streams: dict[str, str] = {}
        for o in cell.get("outputs", []):
            kind = o["output_type"]
            if kind == "stream":
                streams[o["name"]] = streams.get(o["name"], "") + "".join(o["text"])
            elif kind in ("execute_result", "display_data"):
                data = o.get("data", {})
                for mime in ("text/markdown", "text/plain"):
                    if mime in data:
                        out.append(f"{mime}: " + "".join(data[mime]))
                        break
                out.extend(f"<{mime}>" for mime in sorted(data) if mime.startswith("image/"))
            elif kind == "error":
                out.append(f"error: {o['ename']}: {o['evalue']}")
        out.extend(f"{name}: {text}" for name, text in sorted(streams.items()))
        masked = []
        for text in out:
            text = text.replace(root, "<root>")
            for pattern, repl in MASKS:
                text = pattern.sub(repl, text)
            masked.append(text)
        cells.append(masked)
    return cells


def as_number(token: str) -> float:
    return float(token.replace(",", ""))


def same(stored: str, fresh: str) -> bool:
    if NUMBER.sub("#", stored) != NUMBER.sub("#", fresh):
        return False
    for a, b in zip(NUMBER.findall(stored), NUMBER.findall(fresh)):
        x, y = as_number(a), as_number(b)
        if not math.isclose(x, y, rel_tol=REL_TOL, abs_tol=ABS_TOL):
            return False
    return True


def first_difference(stored: str, fresh: str) -> str:
    for a, b in zip(stored.splitlines(), fresh.splitlines()):
        if not same(a, b):
            return f"  stored: {a}\n  now:    {b}"
    return f"  stored: {len(stored.splitlines())} lines\n  now:    {len(fresh.splitlines())} lines"


def compare(stored_nb: dict, fresh_nb: dict, root: str) -> list[str]:
    problems = []
    if mode(stored_nb) is None:
        return ["no stored outputs' mode (metadata.rtsim.quick): store them with RTSIM_NB_UPDATE=1"]
    if mode(stored_nb) != mode(fresh_nb):
        return [
            f"stored outputs were made with quick={mode(stored_nb)}, this run has "
            f"quick={mode(fresh_nb)}: re-run in the stored mode (RTSIM_QUICK)"
        ]
    stored, fresh = texts(stored_nb, root), texts(fresh_nb, root)
    if len(stored) != len(fresh):
        return [f"{len(stored)} code cells stored, {len(fresh)} executed"]
    for n, (s, f) in enumerate(zip(stored, fresh), start=1):
        if len(s) != len(f):
            problems.append(f"code cell {n}: {len(s)} outputs stored, {len(f)} now")
            continue
        for a, b in zip(s, f):
            if not same(a, b):
                problems.append(f"code cell {n}:\n{first_difference(a, b)}")
    return problems


def self_test() -> int:
    """The comparison can fail: a changed number, changed text, another mode."""

    def nb(text: str, quick: bool = True) -> dict:
        cell = {"cell_type": "code", "outputs": [{"output_type": "stream", "name": "stdout", "text": text}]}
        return {"metadata": {"rtsim": {"quick": quick}}, "cells": [cell]}

    base = "requests/s 33,333.3; p99 1.25 s; finished in 0.4 s wall time\n"
    cases = [
        (base, base.replace("0.4 s wall", "9.9 s wall"), True, True),  # wall time masked
        (base, base.replace("33,333.3", "33,333.30001"), True, True),  # within 1e-4
        (base, base.replace("1.25", "1.26"), True, False),  # a number moved
        (base, base.replace("p99", "p50"), True, False),  # the text changed
        (base, base, False, False),  # another mode
    ]
    for stored, fresh, same_mode, should_match in cases:
        problems = compare(nb(stored), nb(fresh, quick=same_mode), "/nowhere")
        if (not problems) != should_match:
            print(f"check_outputs self-test failed on {fresh!r}: {problems}")
            return 1
    print("check_outputs: self-test passed")
    return 0


def main() -> int:
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    stored_path, fresh_path = Path(sys.argv[1]), Path(sys.argv[2])
    root = str(Path(__file__).resolve().parent.parent)
    stored = json.loads(stored_path.read_text())
    fresh = json.loads(fresh_path.read_text())
    problems = compare(stored, fresh, root)
    if problems:
        print(f"{stored_path.name}: stored outputs no longer match the code:")
        for p in problems:
            print(p)
        print(
            "(if the change is intended, store the new outputs: "
            "RTSIM_NB_UPDATE=1 bash notebooks/run_all.sh, and review the diff)"
        )
        return 1
    print(f"{stored_path.name}: outputs match the stored ones")
    return 0


if __name__ == "__main__":
    sys.exit(main())
