"""The lending scenario: the injected bias is measurable, and live traffic drifts only after drift_start."""

from __future__ import annotations

import numpy as np
import pytest

from course.clarify import posttraining_from_masks, pretraining_bias, pretraining_from_masks
from course.clarify.lending import FEATURES, live_applicants, make_applicants
from course.monitor import KLLSketch, sketch_distance

CONFIG = {
    "label": "approved",
    "label_values_or_threshold": [1],
    "facet_name": "sex",
    "facet_values_or_threshold": ["F"],
}


def test_injected_bias_is_what_dpl_measures():
    biased = make_applicants(4000, seed=0)
    fair = make_applicants(4000, seed=0, historical_bias=0.0)
    assert list(biased.columns) == [*FEATURES, "sex", "approved"]
    assert biased[FEATURES].equals(fair[FEATURES])
    assert pretraining_bias(biased, **CONFIG, methods=["DPL"])["DPL"] > 0.25
    assert abs(pretraining_bias(fair, **CONFIG, methods=["DPL"])["DPL"]) < 0.08
    assert make_applicants(50, seed=3).equals(make_applicants(50, seed=3))


def test_live_traffic_drifts_after_drift_start():
    live = live_applicants(8, 400, seed=1, drift_start=4)
    assert len(live) == 3200 and live["inference_time"].is_monotonic_increasing
    hours = live["inference_time"].dt.hour
    baseline = KLLSketch()
    baseline.update(make_applicants(3000, seed=0)["income"])

    def distance(hour: int) -> float:
        window = KLLSketch()
        window.update(live.loc[hours == hour, "income"])
        return sketch_distance(baseline, window)

    assert max(distance(h) for h in range(4)) < 0.1
    assert min(distance(h) for h in range(6, 8)) > 0.3
    assert live.loc[hours >= 6, "sex"].eq("F").mean() > live.loc[hours < 4, "sex"].eq("F").mean() + 0.1


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_bad_sizes(bad):
    with pytest.raises(ValueError, match="positive int"):
        make_applicants(bad, seed=0)


def test_metrics_from_masks_match_the_frame_functions():
    df = make_applicants(500, seed=2)
    facet = (df["sex"] == "F").to_numpy()
    y = df["approved"].to_numpy() == 1
    y_hat = df["income"].to_numpy() > 50
    assert pretraining_from_masks(facet, y, None, ["CI", "DPL"]) == pretraining_bias(
        df, **CONFIG, methods=["CI", "DPL"]
    )
    out = posttraining_from_masks(facet, y, y_hat, None, None, ["DPPL", "DI"])
    assert out["DPPL"] == pytest.approx(y_hat[~facet].mean() - y_hat[facet].mean())
    with pytest.raises(ValueError, match="both groups"):
        pretraining_from_masks(np.ones(3, dtype=bool), np.ones(3, dtype=bool), None, ["CI"])
