#!/usr/bin/env bash
# Executes every notebook in notebooks/ top to bottom, in quick mode, in a virtual
# environment; fails on the first cell that raises.
#
#   bash notebooks/run_all.sh                 # all notebooks
#   bash notebooks/run_all.sh 01-tour.ipynb   # some of them
#
# Environment: RTSIM_VENV (default notebooks/.venv), PYTHON (default python3),
# RTSIM_BIN (a built rtsim; default: `cargo run --release --` from the notebooks),
# RTSIM_QUICK (default 1 here: short runs). Executed copies go to output/notebooks/executed/.
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

export RTSIM_QUICK="${RTSIM_QUICK:-1}"
export MPLBACKEND=Agg
if [ "$#" -eq 0 ]; then
    set -- "$here"/[0-9]*.ipynb
fi

"$venv/bin/python" - "$root/output/notebooks/executed" "$@" <<'PY'
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
        nbformat.write(nb, out_dir / path.name)
if failed:
    sys.exit(f"notebooks with errors: {', '.join(failed)} (executed copies in {out_dir})")
PY
