"""The automated data labeling loop and its output manifest."""

import json
import math

import numpy as np
import pytest

from course.labeling import (
    MIN_OBJECTS,
    LabelingJobResult,
    read_manifest,
    run_labeling_job,
    validation_fraction,
)


@pytest.fixture(scope="module")
def result(digits, solution, strategies) -> LabelingJobResult:
    from course.labeling import Workforce

    return run_labeling_job(
        digits.records,
        digits.X,
        digits.y,
        workforce=Workforce.simulate(5, seed=0),
        labeling_job_name="digits",
        label_attribute_name="digit",
        class_names=digits.class_names,
        strategy=strategies["margin"],
        consolidation=solution["majority_vote"],
        threshold=solution["choose_threshold"],
        initial_sample_size=180,
        batch_size=90,
        progress=False,
    )


def test_every_object_is_labeled_once_by_humans_or_the_model(result, digits):
    assert result.n_unlabeled == 0
    assert not np.any(result.human_annotated & result.auto_labeled)
    assert np.all(result.human_annotated | result.auto_labeled)
    assert result.n_human_labeled + result.n_auto_labeled == len(digits.y)


def test_auto_labels_are_accurate_and_save_cost(result, digits, workforce):
    auto = result.auto_labeled
    assert auto.mean() >= 0.4
    assert np.mean(result.labels[auto] == digits.y[auto]) >= 0.93
    all_human = len(digits.y) * 3 * workforce.cost_per_label.mean()
    assert result.total_cost < 0.8 * all_human


def test_history_records_each_iteration(result):
    frame = result.history_frame()
    assert list(frame.columns) == [
        "iteration", "n_train", "n_validation", "threshold", "n_auto_labeled",
        "auto_label_accuracy", "n_human_labeled", "human_labels_used", "cost",
        "total_cost", "n_unlabeled",
    ]  # fmt: skip
    assert frame["iteration"].tolist() == list(range(len(frame)))
    assert math.isnan(frame["threshold"][0]) and frame["n_human_labeled"][0] == 180
    assert frame["n_auto_labeled"].sum() == result.n_auto_labeled
    assert frame["human_labels_used"].iloc[-1] == result.n_human_labeled
    assert frame["cost"].sum() == pytest.approx(result.total_cost)
    assert frame["n_unlabeled"].iloc[-1] == 0
    assert (frame["n_validation"] / (frame["n_train"] + frame["n_validation"])).between(0.15, 0.25).all()


def test_output_manifest_round_trip(result, digits, tmp_path):
    path = result.write_output_manifest(tmp_path / "output.manifest")
    lines = read_manifest(path)
    assert len(lines) == len(digits.records)
    for i in (0, 500, 1796):
        line = lines[i]
        meta = line["digit-metadata"]
        assert line["source-ref"] == digits.records[i]["source-ref"]
        assert line["digit"] == int(result.labels[i])
        assert meta["class-name"] == digits.class_names[line["digit"]]
        assert 0.0 <= meta["confidence"] <= 1.0
        assert meta["type"] == "groundtruth/image-classification"
        assert meta["job-name"] == "labeling-job/digits"
        assert meta["human-annotated"] == ("yes" if result.human_annotated[i] else "no")
    assert sum(json.loads(x)["digit-metadata"]["human-annotated"] == "no"
               for x in path.read_text().splitlines()) == result.n_auto_labeled  # fmt: skip


def test_same_seed_same_job(digits, job_kwargs):
    from course.labeling import Workforce

    runs = [
        run_labeling_job(digits.records, digits.X, digits.y,
                         **{**job_kwargs, "workforce": Workforce.simulate(5, seed=0)})
        for _ in range(2)
    ]  # fmt: skip
    np.testing.assert_array_equal(runs[0].labels, runs[1].labels)
    assert runs[0].total_cost == runs[1].total_cost


def test_budget_stops_the_job_and_leaves_objects_unlabeled(digits, job_kwargs, tmp_path):
    never = {"threshold": lambda confidence, correct, *, target_accuracy: math.inf}
    result = run_labeling_job(
        digits.records, digits.X, digits.y, **{**job_kwargs, **never},
        max_human_labeled_object_count=300,
    )  # fmt: skip
    assert result.n_human_labeled == 300 and result.n_auto_labeled == 0
    assert result.n_unlabeled == len(digits.y) - 300
    lines = read_manifest(result.write_output_manifest(tmp_path / "out.manifest"))
    assert sum("digit" in line for line in lines) == 300


def test_injected_callables_are_used(digits, job_kwargs):
    seen = {"strategy": [], "consolidation": 0, "threshold": 0}

    def first_rows(proba, n_instances):
        seen["strategy"].append(proba.shape)
        return np.arange(n_instances)

    def always_first_worker(answers):
        seen["consolidation"] += 1
        return np.array([row[row >= 0][0] for row in answers])

    def strict(confidence, correct, *, target_accuracy):
        seen["threshold"] += 1
        assert target_accuracy == 0.95 and confidence.shape == correct.shape
        return 0.999

    injected = {"strategy": first_rows, "consolidation": always_first_worker, "threshold": strict}
    result = run_labeling_job(digits.records, digits.X, digits.y, **{**job_kwargs, **injected})
    assert seen["consolidation"] == len(seen["strategy"]) + 1
    assert seen["threshold"] == len(result.history) - 1
    assert all(shape[1] == 10 for shape in seen["strategy"])
    assert result.history_frame()["threshold"][1:].eq(0.999).all()
    assert np.all(result.confidence[result.auto_labeled] >= 0.999)


def test_weighted_consolidation_and_other_strategies_run(digits, job_kwargs, strategies):
    for name in ("random", "least_confidence", "entropy"):
        changed = {"strategy": strategies[name], "consolidation": "weighted"}
        result = run_labeling_job(
            digits.records, digits.X, digits.y, **{**job_kwargs, **changed},
            max_human_labeled_object_count=360,
        )  # fmt: skip
        assert result.n_human_labeled <= 360


def test_validation_fraction_switches_at_5000():
    assert validation_fraction(1250) == 0.2
    assert validation_fraction(4999) == 0.2
    assert validation_fraction(5000) == 0.1


@pytest.mark.parametrize(
    "change, message",
    [
        ({"n_objects": MIN_OBJECTS - 1}, "at least 1,250 objects, got 1,249"),
        ({"n_objects": 0}, "no objects"),
        ({"strategy": "uncertainty"}, "unknown strategy 'uncertainty'"),
        ({"strategy": "margin"}, r"pass your own, strategy=uncertainty_strategy\(score, select\)"),
        ({"consolidation": "mean"}, "unknown consolidation 'mean'"),
        ({"consolidation": "majority"}, "pass your own function, consolidation=majority_vote"),
        ({"max_human_labeled_object_count": 0}, r"max_human_labeled_object_count \(0\) must be > 0"),
        ({"max_human_labeled_object_count": -5}, "must be > 0"),
        ({"max_human_labeled_object_count": 100}, r"must be >= initial_sample_size \(180\)"),
        ({"initial_sample_size": 5}, "initial_sample_size"),
        ({"batch_size": -1}, "batch_size"),
        ({"workers_per_object": 9}, "workers_per_object"),
        ({"label_attribute_name": "digit-metadata"}, "-metadata"),
        ({"class_names": ["a"]}, "at least 2 classes"),
    ],
)
def test_bad_job_input_is_a_clear_error(digits, job_kwargs, tmp_path, change, message):
    change = dict(change)
    n = change.pop("n_objects", len(digits.y))
    with pytest.raises(ValueError, match=message):
        run_labeling_job(digits.records[:n], digits.X[:n], digits.y[:n], **{**job_kwargs, **change})


@pytest.mark.parametrize(
    "change, message",
    [
        ({"threshold": None}, "threshold must be a callable .* pass your own, threshold=choose_threshold"),
        ({"threshold": 0.9}, "threshold must be a callable"),
        ({"strategy": None}, "strategy must be 'random' or a callable"),
        ({"consolidation": 2}, "consolidation must be 'weighted' or a callable"),
    ],
)
def test_plug_in_of_the_wrong_type_is_a_type_error(digits, job_kwargs, change, message):
    with pytest.raises(TypeError, match=message):
        run_labeling_job(digits.records, digits.X, digits.y, **{**job_kwargs, **change})


def test_decisions_have_no_default(digits, job_kwargs):
    for name in ("strategy", "consolidation", "threshold"):
        kwargs = {key: value for key, value in job_kwargs.items() if key != name}
        with pytest.raises(TypeError, match=f"missing 1 required keyword-only argument: '{name}'"):
            run_labeling_job(digits.records, digits.X, digits.y, **kwargs)


def test_bad_strategy_output_is_a_clear_error(digits, job_kwargs):
    first_only = {"strategy": lambda proba, n_instances: np.array([0])}
    with pytest.raises(ValueError, match="returned 1 indices; it must return exactly"):
        run_labeling_job(digits.records, digits.X, digits.y, **{**job_kwargs, **first_only})
