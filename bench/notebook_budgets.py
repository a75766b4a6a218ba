"""Full-size time and peak memory of every teaching notebook (issue budgets: each <= 4 min, the series
<= 15 min, peak <= 2 GB on 2 CPU cores).

    python bench/notebook_budgets.py                 # every notebook in notebooks/solutions, full size
    python bench/notebook_budgets.py 02 05           # only those (by number prefix)
    SAEW_SIZE=small python bench/notebook_budgets.py # the CI size
    python bench/notebook_budgets.py --record        # full size, and record it where the notebooks' labels look

Each notebook runs in its own process with a fresh kernel (nbclient), offline, with torch limited to 2
threads as on the target laptop. Peak memory is the kernel's maximum resident set size
(getrusage of the finished child). Results are also written to bench/notebook_budgets.json (scratch, not
committed). ``--record`` also merges a full-size run's rows into ``notebooks/run_times.json``, which is
committed: each notebook's title quotes its seconds there, and tests/test_notebooks.py holds the label to it.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "notebooks" / "solutions"
EACH_S, SERIES_S, PEAK_MB = 240, 900, 2048


def run_one(path: Path) -> dict:
    """Execute one notebook in a fresh kernel; runs inside a child process (see main)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(str(path), as_version=4)
    start = time.perf_counter()
    error = ""
    try:
        NotebookClient(
            nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
        ).execute()
    except Exception as exc:  # report it in the table, keep measuring the others
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else ''}"
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # kB on Linux
    return {"notebook": path.name, "seconds": round(seconds, 1), "peak_mb": round(peak_mb), "error": error}


RECORD = ROOT / "notebooks" / "run_times.json"


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        print(json.dumps(run_one(Path(argv[1]))))
        return 0
    record = "--record" in argv
    argv = [a for a in argv if a != "--record"]
    if record and os.environ.get("SAEW_SIZE", "full") != "full":
        print("--record keeps full-size times only: unset SAEW_SIZE", file=sys.stderr)
        return 2
    wanted = [
        p for p in sorted(SOLUTIONS.glob("*.ipynb")) if not argv or any(p.name.startswith(a) for a in argv)
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    size = env.get("SAEW_SIZE", "full")
    rows = []
    print(f"{'notebook':<32} {'seconds':>8} {'peak MB':>8}  budget ({size} size)")
    for path in wanted:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(path)], env=env, capture_output=True, text=True
        )
        row = (
            json.loads(out.stdout.strip().splitlines()[-1])
            if out.returncode == 0
            else {
                "notebook": path.name,
                "seconds": float("nan"),
                "peak_mb": float("nan"),
                "error": out.stderr[-300:],
            }
        )
        ok = row["seconds"] <= EACH_S and row["peak_mb"] <= PEAK_MB and not row["error"]
        rows.append(row)
        print(
            f"{row['notebook']:<32} {row['seconds']:>8.1f} {row['peak_mb']:>8.0f}  "
            f"{'ok' if ok else 'OVER'} ({row['seconds'] / EACH_S:.2f} of 4 min, {row['peak_mb'] / PEAK_MB:.2f} of 2 GB)"
            f"{'  ' + row['error'] if row['error'] else ''}",
            flush=True,
        )
    total = sum(r["seconds"] for r in rows)
    peak = max((r["peak_mb"] for r in rows), default=0)
    print(f"{'series':<32} {total:>8.1f} {peak:>8.0f}  {total / SERIES_S:.2f} of 15 min")
    from saewidgets._files import write_json_atomic

    write_json_atomic(
        ROOT / "bench" / "notebook_budgets.json",
        {"size": size, "notebooks": rows, "series_seconds": round(total, 1)},
    )
    ok = all(not r["error"] for r in rows)
    if record and ok:
        kept = json.loads(RECORD.read_text())["seconds"] if RECORD.exists() else {}
        kept.update({r["notebook"]: round(r["seconds"], 1) for r in rows})
        note = "full-size run time on 2 CPU cores, bench/notebook_budgets.py --record; quoted in each title"
        write_json_atomic(RECORD, {"about": note, "seconds": dict(sorted(kept.items()))})
        print(f"recorded  {RECORD.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
