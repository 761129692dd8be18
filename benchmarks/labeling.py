"""Benchmark of assignment 01's labeling package (a script, not a test).

Prints two comparisons, each against a baseline measured in the same run:

1. Active learning: human labels needed to reach 90% test accuracy on the
   digits, best uncertainty strategy vs random sampling (median over seeds).
   Goal: at least 40% fewer labels.
2. Automated data labeling: accuracy of the auto-labels against the hidden
   truth (goal >= 95%), share of objects auto-labeled (goal >= 50%), and the
   job's cost against labeling every object by hand (same workforce, same
   number of workers per object, at their average price).

The scores, top-k selection, majority vote and threshold are the instructor's
solutions to assignment 01, run from its source notebook (samples/solutions.py):
the course package does not ship them.

Run:  python benchmarks/labeling.py [--seeds 5] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

from course.labeling import (
    Workforce,
    default_estimator,
    labels_to_reach,
    learning_curve,
    load_digits_objects,
    run_labeling_job,
    uncertainty_strategy,
)
from course.labeling.strategies import QueryStrategy

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "samples"))
from solutions import solution_namespace  # noqa: E402

TARGET_TEST_ACCURACY = 0.9
WORKERS_PER_OBJECT = 3


def query_strategies(solution: dict[str, Any]) -> dict[str, str | QueryStrategy]:
    """``"random"`` and the solution's uncertainty scores, each with its top-k selection."""
    select_top_k = solution["select_top_k"]

    def top_k_of_pool(scores: np.ndarray, n_instances: int) -> np.ndarray:
        return select_top_k(scores, n_instances, np.zeros(len(scores), dtype=bool))

    scores = ("least_confidence", "margin", "entropy")
    return {
        "random": "random",
        **{name: uncertainty_strategy(solution[name], top_k_of_pool) for name in scores},
    }


def active_learning(strategies: dict[str, str | QueryStrategy], seeds: list[int], *, max_labels: int) -> None:
    data = load_digits_objects()
    X_pool, X_test, y_pool, y_test = train_test_split(
        data.X, data.y, test_size=0.3, random_state=0, stratify=data.y
    )
    start = time.perf_counter()
    curve = learning_curve(
        X_pool, y_pool, X_test, y_test,
        strategies=strategies, seeds=seeds, initial_size=10, batch_size=5,
        max_labels=max_labels, estimator=default_estimator(C=1.0), progress=True,
    )  # fmt: skip
    reached = labels_to_reach(curve, TARGET_TEST_ACCURACY)
    medians = reached.groupby("strategy", sort=False)["n_labels"].median()
    never = reached.groupby("strategy", sort=False)["n_labels"].apply(lambda s: int(s.isna().sum()))
    print(f"\n== Active learning: human labels to reach {TARGET_TEST_ACCURACY:.0%} test accuracy")
    print(f"   pool {len(y_pool)}, test {len(y_test)}, initial 10 random, batch 5, "
          f"{len(seeds)} seeds, logistic regression C=1")  # fmt: skip
    for strategy in strategies:
        runs = reached.loc[reached["strategy"] == strategy, "n_labels"].tolist()
        shown = ", ".join("never" if np.isnan(n) else f"{n:.0f}" for n in runs)
        print(f"   {strategy:<17} median {medians[strategy]:6.1f}   runs [{shown}]"
              f"{f'   ({never[strategy]} never reached)' if never[strategy] else ''}")  # fmt: skip
    uncertainty = medians.drop("random")
    best = uncertainty.idxmin()
    ratio = uncertainty[best] / medians["random"]
    print(
        f"   best uncertainty strategy: {best}; labels vs random: {ratio:.3f} "
        f"({1 - ratio:.1%} fewer; goal >= 40% fewer: {'met' if ratio <= 0.6 else 'MISSED'})"
    )
    print(f"   ({time.perf_counter() - start:.1f} s)")


def automated_labeling(solution: dict[str, Any], strategy: QueryStrategy, seeds: list[int]) -> None:
    data = load_digits_objects()
    print("\n== Automated data labeling: digits, 1,797 objects, margin strategy, "
          f"{WORKERS_PER_OBJECT} workers per object, majority vote")  # fmt: skip
    rows = []
    for seed in seeds:
        workforce = Workforce.simulate(5, seed=seed)
        result = run_labeling_job(
            data.records, data.X, data.y,
            workforce=workforce, labeling_job_name=f"digits-{seed}", label_attribute_name="digit",
            class_names=data.class_names, strategy=strategy, consolidation=solution["majority_vote"],
            threshold=solution["choose_threshold"], workers_per_object=WORKERS_PER_OBJECT,
            initial_sample_size=180, batch_size=90, seed=seed, progress=False,
        )  # fmt: skip
        auto = result.auto_labeled
        all_human = len(data.y) * WORKERS_PER_OBJECT * workforce.cost_per_label.mean()
        human = result.human_annotated
        rows.append((
            float(np.mean(result.labels[auto] == data.y[auto])),
            float(auto.mean()),
            result.total_cost,
            all_human,
            float(np.mean(result.labels[human] == data.y[human])),
            len(result.history) - 1,
        ))  # fmt: skip
        print(f"   seed {seed}: auto-label accuracy {rows[-1][0]:.3f}, auto-labeled "
              f"{rows[-1][1]:.1%}, cost ${rows[-1][2]:.2f} vs ${all_human:.2f} all-human "
              f"({rows[-1][2] / all_human:.1%}), human-label accuracy {rows[-1][4]:.3f}, "
              f"{rows[-1][5]} iterations")  # fmt: skip
    accuracy, fraction, cost, all_human, _, _ = (np.array(column) for column in zip(*rows, strict=True))
    print(
        f"   median auto-label accuracy {np.median(accuracy):.3f} (goal >= 0.95: "
        f"{'met' if np.median(accuracy) >= 0.95 else 'MISSED'}; min {accuracy.min():.3f})"
    )
    print(
        f"   median fraction auto-labeled {np.median(fraction):.1%} (goal >= 50%: "
        f"{'met' if np.median(fraction) >= 0.5 else 'MISSED'}; min {fraction.min():.1%})"
    )
    ratio = np.median(cost / all_human)
    print(f"   median cost vs all-human labeling {ratio:.1%} (saving {1 - ratio:.1%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds (>= 5 for the goals)")
    parser.add_argument("--quick", action="store_true", help="stop the curves at 150 labels")
    args = parser.parse_args()
    seeds = list(range(args.seeds))
    solution = solution_namespace("01_labeling")
    strategies = query_strategies(solution)
    active_learning(strategies, seeds, max_labels=150 if args.quick else 250)
    automated_labeling(solution, strategies["margin"], seeds)


if __name__ == "__main__":
    main()
