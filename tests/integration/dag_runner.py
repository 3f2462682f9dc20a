"""Run real DAGs with `dag.test()` in one Python process (one Airflow start-up for many runs).

Usage: python dag_runner.py DAGS_FOLDER PLAN_JSON, where the plan is a list of {"dag_id", "date", "conf"}.
Prints one `RUN {json}` line per run with its state and each task's state. Tests run it in a subprocess
with the platform's environment, as Airflow's own DAG processor and task runner would see it.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone


def main(dags_folder: str, plan: list[dict]) -> None:
    sys.path.insert(0, dags_folder)  # as Airflow's DAG processor does, so `wiring` imports
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=dags_folder)
    assert not bag.import_errors, bag.import_errors
    for item in plan:
        dag = bag.dags[item["dag_id"]]
        moment = datetime.fromisoformat(item["date"]).replace(tzinfo=timezone.utc)  # noqa: UP017 (3.10 compatible)
        run = dag.test(logical_date=moment, run_conf=item.get("conf"))
        tasks = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
        print("RUN " + json.dumps(item | {"state": str(run.state), "tasks": tasks}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]))
