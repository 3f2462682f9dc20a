"""kb_embedding_refresh's step: bring the live help-centre index up to the day's articles (blue/green)."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from ml_platform import names
from ml_platform.config.assistant import AssistantConfig
from ml_platform.errors import IndexCheckFailed
from ml_platform.lake import Lake
from ml_platform.reports import Reports
from ml_platform.run_context import RunContext
from ml_platform.settings import Settings

log = logging.getLogger(__name__)


def refresh_step(config: AssistantConfig, settings: Settings, ctx: RunContext) -> dict[str, Any]:
    from ml_platform.retrieval.index import refresh_index
    from ml_platform.retrieval.stores import open_vector_store

    lake, reports = Lake.at(settings.lake_uri), Reports.at(settings.reports_uri)
    kb, questions = lake.read(config.tables.kb, ctx.day), lake.read(config.tables.eval, ctx.day)
    retrieval = config.retrieval
    with open_vector_store(settings.vector_store_uri) as store:
        report = refresh_index(
            store,
            kb,
            questions,
            ctx.day,
            k=retrieval.k,
            hit_rate_floor=retrieval.hit_rate_floor,
            may_go_live=not ctx.is_backfill,
        )
    record = report.as_dict()
    url = reports.write_json(names.KB_REFRESH, ctx.day, names.REFRESH, record)
    log.info("index refresh %s: %s", ctx.day, report.reason)
    if not report.promoted and not report.recorded_only:
        raise IndexCheckFailed(
            f"index {report.index_name} not made live: {report.reason}; live index stays {report.live_before}",
            report_url=url,
        )
    return record


def calibrate_abstention(
    config: AssistantConfig, day: date, tune_seed: int, test_seed: int, max_false_abstention: float
) -> dict[str, Any]:
    """The retrieval-abstention threshold set on half of the eval questions in the demo world of `tune_seed`,
    judged on the other half in the world of `test_seed` (other questions, another knowledge base), each
    indexed in a scratch store."""
    from ml_platform.evaluation.abstention import choose_threshold, rates, split_half

    tune = split_half(_top_scores(config, day, tune_seed), part=0)
    test = split_half(_top_scores(config, day, test_seed), part=1)
    threshold = choose_threshold(tune[0], max_false_abstention)
    return {
        "day": day.isoformat(),
        "max_false_abstention": max_false_abstention,
        "threshold": round(threshold, 4),
        "tune": {"seed": tune_seed, "half": 0, **rates(threshold, *tune)},
        "test": {"seed": test_seed, "half": 1, **rates(threshold, *test)},
    }


def _top_scores(config: AssistantConfig, day: date, seed: int) -> list[tuple[str, float, bool]]:
    """(question, top-1 retrieval score, answerable?) of each eval question of the seed's demo world."""
    import tempfile

    from ml_platform.datasets.scenario import Scenario
    from ml_platform.datasets.support import generate_support
    from ml_platform.retrieval.index import Retriever, refresh_index
    from ml_platform.retrieval.stores import open_vector_store

    tables, _ = generate_support(day, seed, Scenario(), chats=0, eval_questions=270)
    questions = tables["support_eval"]
    with tempfile.TemporaryDirectory(prefix="calibrate-") as scratch, open_vector_store(scratch) as store:
        refresh_index(store, tables["support_kb"], questions, day, k=config.retrieval.k, hit_rate_floor=0.0)
        hits = Retriever(store).search_many(questions["question"].tolist(), 1)
    return [
        (question, h[0].score if h else 0.0, bool(answerable))
        for question, h, answerable in zip(questions["question"], hits, questions["answerable"], strict=True)
    ]
