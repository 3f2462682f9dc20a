"""Typed config: every shipped file loads, types are strict, and each list a config may name is implemented."""

from __future__ import annotations

from typing import get_args

import pytest

from ml_platform.config.assistant import load_assistant_config
from ml_platform.config.base import config_dir, parse, read_yaml
from ml_platform.config.datasets import dataset_names, load_schema
from ml_platform.config.demo import load_demo_file
from ml_platform.config.pipelines import load_ingest_config, load_monitoring_config
from ml_platform.config.tabular import (
    DerivedFeature,
    ExtraMetric,
    ModelConfig,
    load_model_config,
    load_training_pipeline,
    model_names,
)
from ml_platform.errors import ConfigError
from ml_platform.tabular.features import DERIVED
from ml_platform.tabular.metrics import EXTRA


def test_every_shipped_config_file_loads() -> None:
    assert [load_model_config(name).name for name in model_names()] == model_names()
    assert all(load_schema(name).name == name for name in dataset_names())
    assert load_assistant_config().finetune.abstain_share == 0.25
    assert load_ingest_config().groups and load_monitoring_config().schedule
    assert load_training_pipeline().form.hyperparameters and load_demo_file().days


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        (
            ("monitoring", "drift_share_threshold"),
            "0.1",
            "monitoring.drift_share_threshold: Input should be a valid number",
        ),
        (("monitoring", "prediction_drift"), "yes", "monitoring.prediction_drift: Input should be a valid boolean"),
        (("window", "train_days"), 10.0, "window.train_days: Input should be a valid integer"),
        (("features", "exclude"), "gender", "features.exclude: Input should be a valid tuple"),
    ],
)
def test_types_are_strict_and_the_error_names_file_and_key(where: tuple[str, str], value, message: str) -> None:
    raw = read_yaml(config_dir() / "models" / "churn.yaml")
    raw[where[0]] = {**raw[where[0]], where[1]: value}
    with pytest.raises(ConfigError, match=r"churn\.yaml: ") as refused:
        parse(ModelConfig, raw, config_dir() / "models" / "churn.yaml")
    assert message in str(refused.value)


def test_every_extra_metric_and_derived_feature_a_config_may_name_is_implemented() -> None:
    assert set(get_args(ExtraMetric)) == set(EXTRA)
    assert set(get_args(DerivedFeature)) == set(DERIVED)


def test_every_field_of_the_finetune_form_overrides_a_config_value() -> None:
    from ml_platform.config.assistant import FORM_FIELDS, FinetuneForm

    config = load_assistant_config()
    assert set(FORM_FIELDS) == set(FinetuneForm.model_fields)
    tuned = config.for_run({"lora_r": 4, "eval_questions": 6, "steps": None})
    assert (tuned.finetune.lora.r, tuned.evaluation.questions, tuned.finetune.steps) == (4, 6, config.finetune.steps)
    assert config.finetune.lora.r == config.form_defaults()["lora_r"] != 4


def test_a_config_stored_as_json_reads_back_equal() -> None:
    import json

    from ml_platform.config.assistant import load_assistant_config
    from ml_platform.config.base import parse_json
    from ml_platform.config.tabular import ModelConfig, load_model_config

    # The assistant's config holds a date (its DAG's start), which strict validation of a dict refuses.
    for config in (load_assistant_config(), load_model_config("fraud")):
        stored = json.loads(json.dumps(config.model_dump(mode="json")))
        assert parse_json(type(config), stored, "a record") == config
    with pytest.raises(ConfigError, match=r"a record: window.train_days"):
        parse_json(
            ModelConfig,
            {**load_model_config("churn").model_dump(mode="json"), "window": {"train_days": "x"}},
            "a record",
        )
