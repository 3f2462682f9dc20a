#!/usr/bin/env bash
# The nightly chain of `make run`: each DAG for DATE through Airflow (`airflow dags test`, on the embedded
# metadata DB), one status line per DAG, full logs under $AIRFLOW_HOME/runs/, then the run summary.
set -euo pipefail
DATE=${1:?usage: nightly.sh YYYY-MM-DD}
DAGS=(ingest_daily churn_training fraud_training)
LOGS="$AIRFLOW_HOME/runs/$DATE"
mkdir -p "$LOGS"
for dag in "${DAGS[@]}"; do
  started=$(date +%s)
  if airflow dags test "$dag" "$DATE" > "$LOGS/$dag.log" 2>&1; then
    echo "  $dag $DATE: success ($(( $(date +%s) - started ))s, log $LOGS/$dag.log)"
  else
    echo "  $dag $DATE: FAILED after $(( $(date +%s) - started ))s; last lines of $LOGS/$dag.log:" >&2
    grep -E "error|Error|Traceback|FAILED" "$LOGS/$dag.log" | tail -20 >&2
    exit 1
  fi
done
ml-platform summary --date "$DATE"
