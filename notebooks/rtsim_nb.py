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
        return f"Results({self.out}, {len(self.rows)} rows)"


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


# The rules `rtsim table` uses to word its cells (README, "The trade-off table"),
# re-implemented here so you can see them and change them.
WASTEFUL_EMPTY_FRACTION = 0.5
HELD_CONNECTIONS_PER_CLIENT = 0.5
REAL_TIME_P99_S = 0.5
NEAR_REAL_TIME_P99_S = 2.0

DIRECTION = {
    "short-polling": "client → server",
    "long-polling": "client → server",
    "sse": "server → client",
    "websocket": "bidirectional",
}
HELD = {
    "short-polling": "one kept-alive conn per client",
    "long-polling": "one conn per waiting client",
    "sse": "one open response/client",
    "websocket": "persistent socket/client",
}


SATURATED_CPU = 0.95


def overload(row: pd.Series) -> str:
    """'overloaded: 702,651 refused, CPU 100% — ' before any other word, as `rtsim table`."""
    facts = []
    if row.rejected_connections > 0:
        facts.append(f"{row.rejected_connections:,.0f} refused")
    if row.cpu_utilization >= SATURATED_CPU:
        facts.append(f"CPU {100 * row.cpu_utilization:.0f}%")
    if row.lost > 0:
        facts.append(f"{row.lost:,.0f} lost")
    if not facts:
        return ""
    overloaded = row.rejected_connections > 0 or row.cpu_utilization >= SATURATED_CPU
    return ("overloaded: " if overloaded else "updates lost: ") + ", ".join(facts) + " — "


def connection_cost(row: pd.Series) -> str:
    return overload(row) + _connection_word(row)


def _connection_word(row: pd.Series) -> str:
    # An empty share (no response sent: SSE, WebSockets) reads as NaN: never wasteful.
    if row.empty_response_fraction > WASTEFUL_EMPTY_FRACTION:
        return "wasteful (many empty hits)"
    if row.connections_mean / row.clients >= HELD_CONNECTIONS_PER_CLIENT:
        return HELD[row.technique]
    return "light (few conns, few empty hits)"


def latency_word(row: pd.Series) -> str:
    if row.deliveries == 0:
        return "n/a"
    if row.latency_p99_s < REAL_TIME_P99_S:
        return "real-time"
    if row.latency_p99_s < NEAR_REAL_TIME_P99_S:
        return "near-real-time"
    return "poor (stale)"


def tradeoff_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The seed's table, worded from the numbers of one row per technique."""
    return pd.DataFrame(
        {
            "Technique": rows.technique,
            "Direction": rows.technique.map(DIRECTION),
            "Connection cost": rows.apply(connection_cost, axis=1),
            "requests/s": rows.requests_per_s.round(0),
            # An empty cell in results.csv (no response was sent) is "no responses", not 0 %.
            "empty": [
                "no responses" if pd.isna(e) else f"{100 * e:.1f} %"
                for e in rows.empty_response_fraction
            ],
            "Latency": rows.apply(latency_word, axis=1),
            "mean (s)": rows.latency_mean_s.round(3),
            "p99 (s)": rows.latency_p99_s.round(3),
        }
    ).reset_index(drop=True)


def check_prediction(name: str, predicted: float | None, measured: float) -> None:
    """Prints a prediction beside the measurement."""
    if predicted is None:
        print(f"{name}: measured {measured:,.4g} (you made no prediction: fill it in and re-run)")
        return
    err = (measured - predicted) / measured if measured else float("nan")
    print(f"{name}: predicted {predicted:,.4g}, measured {measured:,.4g} ({err:+.0%} off)")
