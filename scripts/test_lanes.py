"""Run the integration tests on both cores: two pytest processes, each running its lane of modules in turn.

Much of an integration module's time is waiting (a scheduler's loop, a worker's heartbeat, a subprocess), so
two lanes overlap well on two cores. (The fast unit tests run before, on both cores: run as a third process
beside the lanes they made everything slower, 16 minutes for what takes 2 alone; the machine has no idle
core to give them.) pytest-xdist cannot pin modules to lanes here: `--dist loadfile` sends
the modules with the most tests first (so the one-test, nine-minute distributed run starts last and runs
alone), and `--dist loadgroup`'s marks do not reach pytest 9's node ids. The lanes are balanced by the seconds
each module took in a clean CI run (in brackets, about: 2026-12-01 on a machine running at half yesterday's
speed, where lane a took 1536 s and lane b 1292 s before the drift timeline moved to b); a module in no lane
is refused, so a new one has to be placed.

Usage: python scripts/test_lanes.py [pytest options]   (from the repository root; `make test` runs it)
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

FOLDER = Path(__file__).resolve().parents[1] / "tests" / "integration"
LANES = {
    "a": [
        "test_distributed.py",  # [794]
        "test_llm_dags.py",  # [254]
        "test_bad_input_matrix.py",  # [150]
        "test_alerts_on_failure.py",  # [24]
        "test_bench_small.py",  # [194: make bench at its small size, so the harness cannot rot]
    ],
    "b": [
        "test_training_dags.py",  # [755, with the browser test of the ML Ops view]
        "test_fault_matrix.py",  # [193]
        "test_reproducibility.py",  # [131]
        "test_ingest_dag.py",  # [120]
        "test_drift_timeline.py",  # [119]
        "test_finetune_resume.py",  # [83]
    ],
}


def unplaced() -> list[str]:
    placed = {name for lane in LANES.values() for name in lane}
    return sorted(p.name for p in FOLDER.glob("test_*.py") if p.name not in placed)


def _relay(lane: str, process: subprocess.Popen) -> None:
    for line in process.stdout:
        sys.stdout.write(f"[{lane}] {line}")
        sys.stdout.flush()


def main(options: list[str]) -> int:
    if missing := unplaced():
        print(f"integration modules in no lane of {__file__}: {', '.join(missing)}", file=sys.stderr)
        return 2
    paths = {lane: [FOLDER / name for name in modules] for lane, modules in LANES.items()}
    processes = {
        lane: subprocess.Popen(
            [sys.executable, "-m", "pytest", *options, *map(str, targets)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for lane, targets in paths.items()
    }
    relays = [threading.Thread(target=_relay, args=item) for item in processes.items()]
    for relay in relays:
        relay.start()
    codes = {lane: process.wait() for lane, process in processes.items()}
    for relay in relays:
        relay.join()
    print(
        "lanes: " + ", ".join(f"{lane} {'passed' if code == 0 else f'failed ({code})'}" for lane, code in codes.items())
    )
    return max(codes.values())


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
