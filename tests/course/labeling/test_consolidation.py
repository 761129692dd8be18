"""The solution's majority vote, the built-in weighted (Dawid-Skene) vote, and plugging in your own."""

import importlib
import pkgutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import course.labeling
from course.labeling import MISSING, Worker, Workforce, agreement, weighted_vote
from course.labeling.consolidation import resolve_consolidation, run_consolidation


@pytest.fixture(scope="module")
def majority_vote(solution):
    return solution["majority_vote"]


def test_majority_picks_the_most_frequent_answer(majority_vote):
    answers = np.array([[1, 1, 2], [0, 2, 2], [3, MISSING, 3]])
    np.testing.assert_array_equal(majority_vote(answers), [1, 2, 3])


def test_majority_tie_goes_to_smallest_class_id(majority_vote):
    answers = np.array([[2, 1, MISSING], [3, 0, 1], [MISSING, 4, 2]])
    np.testing.assert_array_equal(majority_vote(answers), [1, 0, 2])
    np.testing.assert_array_equal(majority_vote(np.array([[5, 2, 2, 5]])), [2])


@settings(max_examples=200, deadline=None)
@given(answers=arrays(int, st.tuples(st.integers(1, 10), st.integers(1, 6)), elements=st.integers(-1, 4)))
def test_majority_matches_counting_oracle(majority_vote, answers):
    answers[:, 0] = np.abs(answers[:, 0])
    expected = []
    for row in answers:
        votes = [a for a in row if a != MISSING]
        best = max(votes.count(c) for c in set(votes))
        expected.append(min(c for c in set(votes) if votes.count(c) == best))
    np.testing.assert_array_equal(majority_vote(answers), expected)


@pytest.mark.parametrize(
    "answers, message",
    [
        (np.array([1, 2]), "2-D"),
        (np.array([[1, MISSING], [MISSING, MISSING]]), "object 1 has no answer"),
    ],
)
def test_majority_rejects_bad_answers(majority_vote, answers, message):
    with pytest.raises(ValueError, match=message):
        majority_vote(answers)


@pytest.mark.parametrize(
    "answers, message",
    [
        (np.array([1, 2]), "2-D"),
        (np.array([[1, MISSING], [MISSING, MISSING]]), "object 1 has no answer"),
        (np.array([[0.5, 1.0]]), "integer class ids"),
        (np.array([[-2, 1]]), ">= 0"),
    ],
)
def test_bad_answers_are_clear_errors(answers, message):
    for check in (weighted_vote, lambda a: agreement(a, np.zeros(len(a), dtype=int))):
        with pytest.raises(ValueError, match=message):
            check(answers)


def test_weighted_vote_trusts_the_reliable_workers(majority_vote):
    truth = np.random.default_rng(0).integers(0, 4, size=400)
    team = [Worker("expert", 0.95, 0.1), Worker("good", 0.9, 0.1)] + [
        Worker(f"spammer{i}", 0.3, 0.01) for i in range(3)
    ]
    batch = Workforce(team, seed=1).annotate(truth, n_classes=4, workers_per_object=5)
    labels, accuracy = weighted_vote(batch.answers, n_classes=4)
    assert np.mean(labels == truth) > np.mean(majority_vote(batch.answers) == truth) + 0.05
    assert np.mean(labels == truth) > 0.9
    np.testing.assert_allclose(accuracy, [0.95, 0.9, 0.3, 0.3, 0.3], atol=0.07)


def test_weighted_vote_with_equal_workers_breaks_ties_by_smallest_class():
    answers = np.array([[1, 0], [0, 1], [2, 2]])
    labels, _ = weighted_vote(answers, n_classes=3)
    assert labels[0] == labels[1] == 0


def test_builtin_name_and_unknown_name():
    answers = np.array([[1, 1, 0]])
    np.testing.assert_array_equal(run_consolidation("weighted", answers, n_classes=2), [1])
    with pytest.raises(ValueError, match="unknown consolidation 'mode'; use 'weighted'"):
        resolve_consolidation("mode", n_classes=2)


def test_majority_is_not_built_in_and_says_what_to_pass():
    with pytest.raises(ValueError, match="graded exercise.*consolidation=majority_vote, or use 'weighted'"):
        run_consolidation("majority", np.array([[1, 1, 0]]), n_classes=2)
    with pytest.raises(TypeError, match="'weighted' or a callable consolidate"):
        resolve_consolidation(None)


def test_custom_consolidation_is_checked():
    answers = np.array([[1, 1, 0], [0, 0, 1]])
    np.testing.assert_array_equal(
        run_consolidation(lambda a: np.zeros(len(a), dtype=int), answers, n_classes=2), [0, 0]
    )
    with pytest.raises(ValueError, match="one label per object"):
        run_consolidation(lambda a: np.zeros(1, dtype=int), answers, n_classes=2)
    with pytest.raises(ValueError, match=r"class ids in \[0, 2\)"):
        run_consolidation(lambda a: np.full(len(a), 7), answers, n_classes=2)


def test_agreement_is_the_share_of_answers_for_the_label():
    answers = np.array([[1, 1, 0], [2, MISSING, 2]])
    np.testing.assert_allclose(agreement(answers, np.array([1, 2])), [2 / 3, 1.0])


def test_package_does_not_contain_graded_answers():
    modules = [course.labeling] + [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(course.labeling.__path__, prefix="course.labeling.")
    ]
    for module in modules:
        for name in ("majority_vote", "least_confidence", "margin", "entropy", "top_k", "select_top_k",
                     "choose_threshold", "consolidate"):  # fmt: skip
            assert not hasattr(module, name), f"{module.__name__}.{name}"
