"""Augmented AI human review of low-confidence predictions."""

import numpy as np
import pytest

from course.labeling import FlowDefinition, Worker, Workforce, records_frame


@pytest.fixture
def flow(perfect_workforce, solution) -> FlowDefinition:
    return FlowDefinition("review", activation_threshold=0.7, workforce=perfect_workforce,
                          consolidation=solution["majority_vote"], workers_per_object=3)  # fmt: skip


def test_only_predictions_below_the_threshold_are_reviewed(flow):
    proba = np.array([[0.9, 0.1], [0.7, 0.3], [0.69, 0.31], [0.2, 0.8], [0.5, 0.5]])
    truth = np.array([0, 1, 1, 1, 1])
    records = flow.review(proba, y_true=truth)
    assert [r.human_reviewed for r in records] == [False, False, True, False, True]
    assert [r.model_label for r in records] == [0, 0, 0, 1, 0]
    assert [r.human_label for r in records] == [None, None, 1, None, 1]
    assert [r.final_label for r in records] == [0, 0, 1, 1, 1]
    assert records[2].model_confidence == pytest.approx(0.69)
    assert records[2].human_confidence == 1.0
    assert records[2].cost == pytest.approx(0.01 + 0.02 + 0.03)
    assert records[0].cost == 0.0


def test_records_frame_has_model_and_human_side_by_side(flow):
    frame = records_frame(flow.review(np.array([[0.6, 0.4]]), y_true=np.array([1])))
    assert frame.loc[0, ["model_label", "human_label", "human_reviewed", "final_label"]].tolist() == [
        0, 1, True, 1,
    ]  # fmt: skip


@pytest.mark.parametrize("consolidation", ["majority_vote", "weighted"])
def test_noisy_reviewers_are_consolidated(digits, solution, consolidation):
    team = Workforce([Worker(f"w{i}", 0.8, 0.02) for i in range(5)], seed=0)
    flow = FlowDefinition("review", activation_threshold=1.0, workforce=team, workers_per_object=5,
                          consolidation=solution.get(consolidation, consolidation))  # fmt: skip
    proba = np.full((300, 10), 0.1)
    records = flow.review(proba, y_true=digits.y[:300])
    accuracy = np.mean([r.human_label == y for r, y in zip(records, digits.y[:300], strict=True)])
    assert accuracy > 0.9


def test_bad_flow_input(perfect_workforce, flow):
    with pytest.raises(ValueError, match="activation_threshold"):
        FlowDefinition("x", activation_threshold=1.5, workforce=perfect_workforce, consolidation="weighted")
    with pytest.raises(ValueError, match="one label per row"):
        flow.review(np.array([[0.5, 0.5]]), y_true=np.array([0, 1]))


def test_consolidation_is_required_and_checked_up_front(perfect_workforce):
    with pytest.raises(TypeError, match="consolidation"):
        FlowDefinition("x", activation_threshold=0.5, workforce=perfect_workforce)
    with pytest.raises(ValueError, match="consolidation=majority_vote, or use 'weighted'"):
        FlowDefinition("x", activation_threshold=0.5, workforce=perfect_workforce, consolidation="majority")
