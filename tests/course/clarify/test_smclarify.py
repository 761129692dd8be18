"""Every bias metric agrees with AWS's open-source Clarify library (smclarify 0.5) to 1e-9.

smclarify cannot be installed next to the course (it needs pandas<3), so its
values were recorded on fixed datasets by ``make_smclarify_fixture.py`` (run it
in a separate virtualenv to regenerate ``smclarify_fixture.json``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from course.clarify import (
    POSTTRAINING_METRICS,
    PRETRAINING_METRICS,
    bias_report,
    posttraining_bias,
    pretraining_bias,
)

FIXTURE = json.loads(Path(__file__).with_name("smclarify_fixture.json").read_text())
CASES = {case["name"]: case for case in FIXTURE["cases"]}


def _frame(case: dict) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(v, dtype=case["dtypes"][c]) for c, v in case["columns"].items()})


def _config(case: dict) -> dict:
    return {
        "label": case["label"],
        "label_values_or_threshold": case["label_values_or_threshold"],
        "facet_name": case["facet_name"],
        "facet_values_or_threshold": case["facet_values_or_threshold"],
        "group_name": case["group_name"],
    }


def _expected(value: float | str) -> float:
    return (
        {"Infinity": math.inf, "-Infinity": -math.inf}.get(value, value) if isinstance(value, str) else value
    )


def _assert_matches(ours: float, theirs: float, name: str) -> None:
    assert type(ours) is float, name
    if math.isinf(theirs):
        assert ours == theirs, name
    else:
        assert abs(ours - theirs) <= 1e-9, (name, ours, theirs)


def test_fixture_covers_every_metric_and_the_edge_rules():
    seen = {name for case in CASES.values() for name in case["expected"]}
    assert seen == set(PRETRAINING_METRICS) | set(POSTTRAINING_METRICS)
    values = [_expected(v) for case in CASES.values() for v in case["expected"].values()]
    assert any(math.isinf(v) for v in values), "no division by zero in the fixture"


@pytest.mark.parametrize("name", sorted(CASES))
def test_pretraining_metrics_match_smclarify(name):
    case = CASES[name]
    df = _frame(case)
    before = df.copy()
    ours = pretraining_bias(df, **_config(case))
    assert df.equals(before), "the input was modified"
    assert list(ours) == list(PRETRAINING_METRICS)
    for metric in PRETRAINING_METRICS:
        if metric in case["errors"]:
            with pytest.raises(ValueError):
                pretraining_bias(df, **_config(case), methods=[metric])
        else:
            _assert_matches(ours[metric], _expected(case["expected"][metric]), metric)


@pytest.mark.parametrize("name", sorted(CASES))
def test_posttraining_metrics_match_smclarify(name):
    case = CASES[name]
    df = _frame(case)
    if "post_training" in case["errors"]:
        with pytest.raises(ValueError):
            posttraining_bias(df, **_config(case), predicted_label=case["predicted_label"])
        return
    ours = posttraining_bias(df, **_config(case), predicted_label=case["predicted_label"])
    assert list(ours) == list(POSTTRAINING_METRICS)
    for metric in POSTTRAINING_METRICS:
        _assert_matches(ours[metric], _expected(case["expected"][metric]), metric)


@pytest.mark.parametrize("name", sorted(CASES))
def test_report_matches_smclarify(name):
    case = CASES[name]
    report = bias_report(_frame(case), **_config(case), predicted_label=case["predicted_label"])
    pre = report["pre_training_bias_metrics"]["facets"][case["facet_name"]][0]
    assert pre["value_or_threshold"] == case["value_or_threshold"]
    for entry in (
        pre["metrics"] + report["post_training_bias_metrics"]["facets"][case["facet_name"]][0]["metrics"]
    ):
        if entry["name"] in case["expected"]:
            assert entry["value"] == case["expected"][entry["name"]] or math.isclose(
                entry["value"], case["expected"][entry["name"]], abs_tol=1e-9
            ), entry
