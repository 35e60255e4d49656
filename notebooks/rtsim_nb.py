"""Small helpers shared by the rtsim notebooks: find the repository, run rtsim, load results.

Nothing here is clever on purpose: every call prints the `rtsim` command it runs, so you
can paste it into a terminal and get the same files.

Environment variables:
    RTSIM_BIN    path to a built rtsim binary; otherwise `cargo run --release --` is used
                 (the first call compiles rtsim, which takes a few minutes once).
    RTSIM_QUICK  "1" shortens every run (fewer clients, fewer simulated seconds) so the
                 notebooks execute in a minute or two; CI sets it. The numbers then differ
                 from the lessons' real runs, but the shapes stay.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from pathlib import Path

import pandas as pd


def repo_root(start: Path | None = None) -> Path:
    """The rtsim checkout containing `start` (default: the working directory)."""
    here = Path(start or Path.cwd()).resolve()
    for d in [here, *here.parents]:
        if (d / "Cargo.toml").is_file() and (d / "experiments").is_dir():
            return d
    raise FileNotFoundError(f"no rtsim checkout (Cargo.toml + experiments/) above {here}")


ROOT = repo_root()
QUICK = os.environ.get("RTSIM_QUICK", "") == "1"


def _command() -> list[str]:
    binary = os.environ.get("RTSIM_BIN")
    if binary:
        return [binary]
    manifest = str(ROOT / "Cargo.toml")
    return ["cargo", "run", "--release", "--quiet", "--manifest-path", manifest, "--"]


def rtsim(*args: object) -> str:
    """Runs `rtsim ARGS...` from the repository root and returns its stdout."""
    argv = [str(a) for a in args]
    print("$ rtsim " + " ".join(shlex.quote(a) for a in argv))
    done = subprocess.run(_command() + argv, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"rtsim failed (exit {done.returncode}):\n{done.stderr}")
    return done.stdout


class Results:
    """One output folder of `rtsim run`."""

    def __init__(self, out: Path):
        self.out = out
        self.rows = pd.read_csv(out / "results.csv")
        self.timeseries = pd.read_csv(out / "timeseries.csv")
        self.table_md = (out / "table.md").read_text()

    def __repr__(self) -> str:
        return f"Results({self.out.relative_to(ROOT)}, {len(self.rows)} rows)"


def run(experiment: str, *sets: str, quick: tuple[str, ...] = (), out: str | None = None) -> Results:
    """`rtsim run experiments/EXPERIMENT --set ...` into output/notebooks/<out or name>/.

    `sets` always apply; `quick` applies only when RTSIM_QUICK=1.
    """
    path = Path("experiments") / experiment
    folder = ROOT / "output" / "notebooks" / (out or Path(experiment).stem)
    args: list[object] = ["run", path, "--out", folder.relative_to(ROOT), "--quiet"]
    for s in list(sets) + (list(quick) if QUICK else []):
        args += ["--set", s]
    started = time.time()
    rtsim(*args)
    print(f"  finished in {time.time() - started:.1f} s wall time -> {folder.relative_to(ROOT)}")
    return Results(folder)


def tradeoff_table(results: Results) -> pd.DataFrame:
    """`rtsim table DIR` as a DataFrame: rtsim's own words and rules, not a copy of them.

    The rules that turn numbers into words are rtsim's (`src/report/table.rs`, printed in
    the README's "The trade-off table"); a second implementation here would drift from
    them, so this only parses the Markdown table rtsim prints.
    """
    text = rtsim("table", results.out.relative_to(ROOT))
    lines = [l for l in text.splitlines() if l.startswith("|")]
    cells = [[c.strip() for c in l.strip().strip("|").split("|")] for l in lines]
    header, body = cells[0], [c for c in cells[2:]]
    caption = "\n".join(l for l in text.splitlines() if l and not l.startswith("|"))
    table = pd.DataFrame(body, columns=header)
    table.attrs["caption"] = caption.strip("*")
    return table


def check_prediction(name: str, predicted: float | None, measured: float) -> None:
    """Prints a prediction beside the measurement."""
    if predicted is None:
        print(f"{name}: measured {measured:,.4g} (you made no prediction: fill it in and re-run)")
        return
    err = (measured - predicted) / measured if measured else float("nan")
    print(f"{name}: predicted {predicted:,.4g}, measured {measured:,.4g} ({err:+.0%} off)")
