"""Score the hallucination detector on the labelled cases: `.venv/bin/python scripts/hallucination_report.py [cases.yaml]`."""

from __future__ import annotations

import sys

from ml_platform.config.assistant import load_assistant_config
from ml_platform.evaluation.hallucination import detect_hallucination, detector_scores, load_cases


def main(argv: list[str]) -> int:
    cases = load_cases(argv[0] if argv else None)
    detector = load_assistant_config().evaluation.detector
    scores = detector_scores(cases, detector)
    positives = sum(c.hallucinated for c in cases)
    print(f"cases: {len(cases)} ({positives} hallucinated, {len(cases) - positives} not)")
    for name in ("precision", "recall", "f1", "accuracy"):
        print(f"{name:>9}: {scores[name]:.3f}")
    print(f"confusion: tp={scores['tp']} fp={scores['fp']} tn={scores['tn']} fn={scores['fn']}")
    by_id = {c.id: c for c in cases}
    for label, ids in (
        ("false positives", scores["false_positive_ids"]),
        ("false negatives", scores["false_negative_ids"]),
    ):
        print(f"{label}: {len(ids)}")
        for case_id in ids:
            case = by_id[case_id]
            verdict = detect_hallucination(case.answer, case.context, detector)
            print(f"  {case_id} ({case.note}): {'; '.join(verdict.reasons) or 'no reason found'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
