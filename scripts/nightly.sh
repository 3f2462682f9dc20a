#!/usr/bin/env bash
# The nightly chain of `make run`: each DAG for DATE through Airflow (`airflow dags test`, on the embedded
# metadata DB), one status line per DAG with its time and peak memory (GNU time's max RSS of the
# `dags test` process, which runs every task in-process), full logs under $AIRFLOW_HOME/runs/, then the run
# summary.
set -euo pipefail
DATE=${1:?usage: nightly.sh YYYY-MM-DD}
mapfile -t DAGS < <(ml-platform nightly-dags)
LOGS="$AIRFLOW_HOME/runs/$DATE"
mkdir -p "$LOGS"
# GNU time reports the peak RSS; where it is missing (macOS, a slim image) the chain runs without the figure.
GNU_TIME=""
if /usr/bin/time -f "%M" -o /dev/null true 2> /dev/null; then GNU_TIME=1; fi
for dag in "${DAGS[@]}"; do
  started=$(date +%s)
  rm -f "$LOGS/$dag.rss"
  run=(airflow dags test "$dag" "$DATE")
  if [[ -n $GNU_TIME ]]; then run=(/usr/bin/time -f "%M" -o "$LOGS/$dag.rss" "${run[@]}"); fi
  if "${run[@]}" > "$LOGS/$dag.log" 2>&1; then
    peak=""
    [[ -s "$LOGS/$dag.rss" ]] && peak=", peak RSS $(( $(tail -1 "$LOGS/$dag.rss") / 1024 )) MiB"
    echo "  $dag $DATE: success ($(( $(date +%s) - started ))s$peak, log $LOGS/$dag.log)"
  else
    echo "  $dag $DATE: FAILED after $(( $(date +%s) - started ))s; last lines of $LOGS/$dag.log:" >&2
    grep -E "error|Error|Traceback|FAILED" "$LOGS/$dag.log" | tail -20 >&2
    exit 1
  fi
done
# The drift timeline over the past week: each champion against its training data, day by day.
FROM=$(date -u -d "$DATE -6 day" +%F)
echo "  drift of the champions, $FROM .. $DATE:"
ml-platform monitor-drift --start "$FROM" --end "$DATE" 2>/dev/null
ml-platform drift-timeline --start "$FROM" --end "$DATE" > "$LOGS/drift-timeline.txt" || true
ml-platform summary --date "$DATE"
