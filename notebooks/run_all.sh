#!/usr/bin/env bash
# Executes every notebook in notebooks/ top to bottom, in quick mode, in a virtual
# environment; fails when a cell raises, or when an output differs from the one stored in
# the notebook (notebooks/check_outputs.py: text equal, numbers within a relative 1e-4,
# wall times masked, and only against outputs stored in the same mode).
#
#   bash notebooks/run_all.sh                        # all notebooks, checked
#   bash notebooks/run_all.sh 01-tour.ipynb          # some of them
#   RTSIM_NB_UPDATE=1 bash notebooks/run_all.sh      # store the new outputs instead
#
# Environment: RTSIM_VENV (default notebooks/.venv), PYTHON (default python3),
# RTSIM_BIN (a built rtsim; default: `cargo run --release --` from the notebooks),
# RTSIM_QUICK (default 1 here: short runs; the stored outputs are quick-mode ones).
# Executed copies go to output/notebooks/executed/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
venv="${RTSIM_VENV:-$here/.venv}"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    echo "creating virtual environment $venv"
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"

"$venv/bin/python" "$here/check_outputs.py" --self-test

export RTSIM_QUICK="${RTSIM_QUICK:-1}"
# Figures are kept in the stored outputs: the kernel draws them inline (no display needed).
unset MPLBACKEND
if [ "$#" -eq 0 ]; then
    set -- "$here"/[0-9]*.ipynb
fi

"$venv/bin/python" - "$root/output/notebooks/executed" "$@" <<'PY'
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

out_dir = Path(sys.argv[1])
out_dir.mkdir(parents=True, exist_ok=True)
failed = []
for arg in sys.argv[2:]:
    path = Path(arg).resolve()
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=900,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.time()
    print(f"=== {path.name}", flush=True)
    try:
        client.execute()
        print(f"    ok in {time.time() - started:.1f} s", flush=True)
    except CellExecutionError as e:
        print(f"    FAILED after {time.time() - started:.1f} s:\n{e}", flush=True)
        failed.append(path.name)
    finally:
        # The mode the outputs were made in; no per-cell timestamps (they change every run).
        nb.metadata["rtsim"] = {"quick": os.environ.get("RTSIM_QUICK") == "1"}
        for cell in nb.cells:
            cell.metadata.pop("execution", None)
        nbformat.write(nb, out_dir / path.name)
    if path.name in failed:
        continue
    if os.environ.get("RTSIM_NB_UPDATE") == "1":
        nbformat.write(nb, path)
        print(f"    outputs stored in {path.name}", flush=True)
    else:
        done = subprocess.run(
            [sys.executable, str(path.parent / "check_outputs.py"), str(path), str(out_dir / path.name)]
        )
        if done.returncode != 0:
            failed.append(path.name)
if failed:
    sys.exit(f"notebooks failing: {', '.join(failed)} (executed copies in {out_dir})")
PY
