"""kb_embedding_refresh's step: bring the live help-centre index up to the day's articles (blue/green)."""

from __future__ import annotations

import logging
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
