"""Benchmark of assignment 05's Clarify and Model Monitor packages (a script, not a test).

Prints two comparisons, each against a baseline measured in the same run with
the same data:

1. Drift detection on a numeric feature: a baseline of 5,000 rows, then
   windows of 500 rows, over many seeds. Model Monitor's baseline_drift_check
   (L-infinity distance between the baseline's and the window's KLL sketches,
   comparison_threshold 0.1, Simple and Robust) against scipy's two-sample
   Kolmogorov-Smirnov test (p < 0.05) on the raw samples. Goals: detection rate
   of a mean shift of 0.5 standard deviations >= 95%, false alarm rate with no
   shift <= 5%. Also the median time of one check, and its ratio to scipy's.
2. Kernel SHAP on a 6-feature gradient-boosting model at the default
   num_samples: the largest absolute error against exact Shapley values
   (goal <= 0.01), and the median time per explained row against exact
   enumeration.

Run:  python benchmarks/clarify_monitor.py [--seeds 200] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from scipy import stats
from sklearn.ensemble import GradientBoostingClassifier

from course.clarify import exact_shapley, kernel_shap, kmeans_baseline
from course.monitor import KLLSketch, sketch_distance

BASELINE_ROWS = 5000
WINDOW_ROWS = 500
SHIFT_SD = 0.5
THRESHOLD = 0.1


def drift(seeds: int) -> None:
    detectors = {"KLL L-inf Simple": [], "KLL L-inf Robust": [], "scipy KS p<0.05": []}
    alarms = {name: [] for name in detectors}
    times: dict[str, list[float]] = {"KLL L-inf Simple": [], "scipy KS p<0.05": []}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        base = rng.normal(size=BASELINE_ROWS)
        baseline_sketch = KLLSketch(seed=seed)
        baseline_sketch.update(base)
        for shift, record in ((SHIFT_SD, detectors), (0.0, alarms)):
            window = rng.normal(loc=shift, size=WINDOW_ROWS)
            start = time.perf_counter()
            sketch = KLLSketch(seed=seed)
            sketch.update(window)
            simple = sketch_distance(baseline_sketch, sketch)
            times["KLL L-inf Simple"].append(time.perf_counter() - start)
            robust = sketch_distance(baseline_sketch, sketch, comparison_method="Robust")
            start = time.perf_counter()
            p_value = stats.ks_2samp(base, window).pvalue
            times["scipy KS p<0.05"].append(time.perf_counter() - start)
            record["KLL L-inf Simple"].append(simple > THRESHOLD)
            record["KLL L-inf Robust"].append(robust > THRESHOLD)
            record["scipy KS p<0.05"].append(p_value < 0.05)
    print(f"\n== Drift detection: baseline {BASELINE_ROWS} rows, windows of {WINDOW_ROWS}, {seeds} seeds, "
          f"shift {SHIFT_SD} sd, comparison_threshold {THRESHOLD}")  # fmt: skip
    print(f"   {'detector':<20} {'detection rate':>15} {'false alarms':>13}")
    for name in detectors:
        print(f"   {name:<20} {np.mean(detectors[name]):>15.1%} {np.mean(alarms[name]):>13.1%}")
    ok = np.mean(detectors["KLL L-inf Simple"]) >= 0.95 and np.mean(alarms["KLL L-inf Simple"]) <= 0.05
    print(f"   goal (Simple: detection >= 95%, false alarms <= 5%): {'met' if ok else 'NOT met'}")
    ours, theirs = statistics.median(times["KLL L-inf Simple"]), statistics.median(times["scipy KS p<0.05"])
    print(f"   median time per check: sketch + L-inf {ours * 1e3:.2f} ms, scipy ks_2samp {theirs * 1e3:.2f} ms "
          f"(ratio {ours / theirs:.2f})")  # fmt: skip


def shap(rows: int) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 6))
    y = (
        X[:, 0] + X[:, 1] * X[:, 2] - 0.5 * X[:, 3] + 0.3 * X[:, 4] ** 2 + rng.normal(scale=0.3, size=1000)
        > 0
    )
    model = GradientBoostingClassifier(n_estimators=50, max_depth=3, random_state=0).fit(X, y.astype(int))
    predict = lambda A: model.predict_proba(A)[:, 1]  # noqa: E731
    baseline = kmeans_baseline(X, num_clusters=10, seed=0)
    errors, kernel_times, exact_times = [], [], []
    for row in X[:rows]:
        start = time.perf_counter()
        approx = kernel_shap(predict, row, baseline=baseline).shap_values[0]
        kernel_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        exact = exact_shapley(predict, row, baseline)
        exact_times.append(time.perf_counter() - start)
        errors.append(float(np.max(np.abs(approx - exact))))
    sampled = [
        float(np.max(np.abs(kernel_shap(predict, row, baseline=baseline, num_samples=32, seed=1).shap_values[0]
                            - exact_shapley(predict, row, baseline))))
        for row in X[:rows]
    ]  # fmt: skip
    print(f"\n== Kernel SHAP: 6 features, gradient boosting, 10 k-means baseline rows, {rows} rows explained")
    print(f"   default num_samples (2*6+2048): max abs error vs exact Shapley {max(errors):.2e} "
          f"(goal <= 0.01: {'met' if max(errors) <= 0.01 else 'NOT met'})")  # fmt: skip
    print(f"   num_samples=32 (sampled coalitions): max abs error {max(sampled):.4f}")
    ours, theirs = statistics.median(kernel_times), statistics.median(exact_times)
    print(f"   median time per row: kernel SHAP {ours * 1e3:.1f} ms, exact enumeration {theirs * 1e3:.1f} ms "
          f"(ratio {ours / theirs:.2f})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="40 seeds and 5 explained rows")
    args = parser.parse_args()
    drift(40 if args.quick else args.seeds)
    shap(5 if args.quick else 20)


if __name__ == "__main__":
    main()
