"""Regenerate ``smclarify_fixture.json``: AWS's own Clarify library's values on fixed datasets.

smclarify needs pandas<3 and old pins, so it runs in a separate virtualenv,
never in the course's own environment::

    python3.11 -m venv /tmp/smclarify-venv
    /tmp/smclarify-venv/bin/pip install smclarify==0.5
    /tmp/smclarify-venv/bin/python tests/course/clarify/make_smclarify_fixture.py

The fixture stores each dataset's rows as well as smclarify's results, so the
tests (``test_smclarify.py``) do not depend on a random generator's stream
being the same in both environments. A metric smclarify could not compute is
recorded with its error; the course must raise a ValueError there.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import smclarify
from smclarify.bias import report

OUT = Path(__file__).with_name("smclarify_fixture.json")


def _lending(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["f", "m", "x"], size=n, p=[0.35, 0.6, 0.05])
    income = np.round(rng.normal(50, 15, size=n), 3)
    debt = np.round(rng.uniform(0, 1, size=n), 3)
    region = rng.integers(0, 4, size=n)
    score = 0.04 * (income - 50) - 1.5 * (debt - 0.5) - 0.8 * (sex == "f") + rng.normal(0, 0.7, size=n)
    approved = (score > 0).astype(int)
    predicted = (
        0.04 * (income - 50) - 1.5 * (debt - 0.5) - 1.2 * (sex == "f") + rng.normal(0, 0.5, size=n)
    ) > 0
    return pd.DataFrame(
        {
            "sex": sex,
            "income": income,
            "debt": debt,
            "region": region,
            "approved": approved,
            "predicted": predicted.astype(int),
        }
    )


def datasets() -> list[dict]:
    """Each case: data, and the arguments both implementations get."""
    cases = []
    for seed, n in ((0, 400), (1, 150)):
        cases.append(
            {
                "name": f"lending_seed{seed}",
                "df": _lending(seed, n),
                "label": "approved",
                "predicted_label": "predicted",
                "label_values": [1],
                "facet": "sex",
                "facet_values": ["f"],
                "group": "region",
            }
        )
    cases.append(
        {
            "name": "two_facet_values",
            "df": _lending(2, 300),
            "label": "approved",
            "predicted_label": "predicted",
            "label_values": [1],
            "facet": "sex",
            "facet_values": ["f", "x"],
            "group": "region",
        }
    )
    rng = np.random.default_rng(3)
    n = 250
    age = rng.integers(18, 80, size=n)
    amount = np.round(rng.gamma(2.0, 10.0, size=n), 2)
    rate = np.round(rng.uniform(1, 20, size=n), 2)
    outcome = np.where(rng.random(n) < 0.5 + 0.004 * (age - 50), "paid", "default")
    guess = np.where(rng.random(n) < 0.45 + 0.006 * (age - 50), "paid", "default")
    cases.append(
        {
            "name": "continuous_age_threshold",
            "df": pd.DataFrame(
                {
                    "age": age,
                    "amount": amount,
                    "rate": rate,
                    "outcome": outcome,
                    "guess": guess,
                    "band": (age // 20).astype(int),
                }
            ),
            "label": "outcome",
            "predicted_label": "guess",
            "label_values": ["paid"],
            "facet": "age",
            "facet_values": [40],
            "group": "band",
        }
    )
    rng = np.random.default_rng(4)
    n = 200
    score = np.round(rng.normal(0.0, 1.0, size=n), 4)
    pred_score = np.round(score + rng.normal(0.0, 0.6, size=n), 4)
    income = np.round(rng.normal(0.0, 1.0, size=n), 4)
    cases.append(
        {
            "name": "continuous_label_threshold",
            "df": pd.DataFrame(
                {
                    "income": income,
                    "x1": np.round(rng.normal(size=n), 3),
                    "score": score,
                    "pred_score": pred_score,
                    "grp": rng.integers(0, 3, size=n),
                }
            ),
            "label": "score",
            "predicted_label": "pred_score",
            "label_values": [0.25],
            "facet": "income",
            "facet_values": [0.5],
            "group": "grp",
        }
    )
    # Group d has no positive label and no positive prediction: label values absent from one facet,
    # ratios with zero denominators.
    df = _lending(5, 120)
    df.loc[df["sex"] == "f", ["approved", "predicted"]] = 0
    cases.append(
        {
            "name": "d_never_positive",
            "df": df,
            "label": "approved",
            "predicted_label": "predicted",
            "label_values": [1],
            "facet": "sex",
            "facet_values": ["f"],
            "group": "region",
        }
    )
    # Few rows in group a (k = 1 in the flip test) and no false positives anywhere. String labels:
    # smclarify reads a 0/1 integer column of fewer than 40 rows as continuous; the course does not.
    df = pd.DataFrame(
        {
            "g": ["a", "a", "a", "d", "d", "d", "d", "d", "a", "d", "d", "d"],
            "x": [0.1, 0.5, 0.9, 0.2, 0.4, 0.6, 0.8, 1.0, 0.3, 0.7, 0.05, 0.95],
            "y": [("no", "yes")[v] for v in [1, 0, 1, 1, 0, 1, 1, 0, 0, 1, 1, 0]],
            "y_hat": [("no", "yes")[v] for v in [1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0]],
            "grp": [0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1],
        }
    )
    cases.append(
        {
            "name": "small_no_false_positives",
            "df": df,
            "label": "y",
            "predicted_label": "y_hat",
            "label_values": ["yes"],
            "facet": "g",
            "facet_values": ["d"],
            "group": "grp",
        }
    )
    # Every prediction in group a positive; perfect predictions in group d.
    df = _lending(6, 90)
    df["predicted"] = np.where(df["sex"] == "f", df["approved"], 1)
    cases.append(
        {
            "name": "a_all_predicted_positive",
            "df": df,
            "label": "approved",
            "predicted_label": "predicted",
            "label_values": [1],
            "facet": "sex",
            "facet_values": ["f"],
            "group": "region",
        }
    )
    return cases


def _value(entry: dict) -> float | str | None:
    if entry.get("error"):
        return None
    value = entry["value"]
    if isinstance(value, str):
        return value
    return float(value)


def run(case: dict) -> dict:
    df = case["df"]
    facet = report.FacetColumn(case["facet"], list(case["facet_values"]))
    label = report.LabelColumn(case["label"], df[case["label"]], list(case["label_values"]))
    predicted = report.LabelColumn(
        case["predicted_label"], df[case["predicted_label"]], list(case["label_values"])
    )
    group = df[case["group"]]
    pre = report.bias_report(
        df, facet, label, report.StageType.PRE_TRAINING, metrics=["all"], group_variable=group
    )
    expected: dict = {}
    errors: dict = {}
    stages = [pre]
    try:
        stages.append(
            report.bias_report(
                df,
                facet,
                label,
                report.StageType.POST_TRAINING,
                predicted_label_column=predicted,
                metrics=["all"],
                group_variable=group,
            )
        )
    except ValueError as error:  # the whole post-training report failed
        errors["post_training"] = str(error)
    for stage in stages:
        for entry in stage[0]["metrics"]:
            if entry.get("error"):
                errors[entry["name"]] = entry["error"]
            else:
                value = entry["value"]
                expected[entry["name"]] = value if isinstance(value, str) else float(value)
    return {
        "name": case["name"],
        "columns": {c: df[c].tolist() for c in df.columns},
        "dtypes": {c: str(df[c].dtype) for c in df.columns},
        "label": case["label"],
        "predicted_label": case["predicted_label"],
        "label_values_or_threshold": case["label_values"],
        "facet_name": case["facet"],
        "facet_values_or_threshold": case["facet_values"],
        "group_name": case["group"],
        "value_or_threshold": pre[0]["value_or_threshold"],
        "expected": expected,
        "errors": errors,
    }


def main() -> None:
    results = [run(case) for case in datasets()]
    for result in results:
        for name, value in result["expected"].items():
            if isinstance(value, float) and math.isnan(value):
                raise SystemExit(f"{result['name']}: {name} is NaN")
    payload = {
        "smclarify_version": smclarify.__version__ if hasattr(smclarify, "__version__") else "0.5",
        "pandas_version": pd.__version__,
        "numpy_version": np.__version__,
        "cases": results,
    }
    OUT.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"wrote {OUT} ({len(results)} cases)")


if __name__ == "__main__":
    main()
