"""The trusted side's pieces: exceptions from student code, write-back, and what feedback may say."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from autograder.trusted import (
    StudentError,
    TestNamespace,
    TestTimeout,
    feedback_message,
    hidden_lines,
    run_test,
    student_exception,
    visible_statement,
    write_back,
)
from course.checks import CheckFailed, check_equal, check_one_of, check_raises

SOURCE = '''"""doc."""
check_equal(f(1), 2)
for x in [1, 2]:
    check_equal(
        f(x), x + 1
    )
### BEGIN HIDDEN TESTS
check_equal(f(-5), -4)
### END HIDDEN TESTS'''


def test_builtin_exceptions_arrive_as_themselves():
    error = student_exception({"name": "MyError", "types": ["ValueError", "Exception"], "message": "bad"})
    assert type(error) is ValueError and str(error) == "bad" and error.from_student


def test_unknown_exceptions_arrive_as_student_errors():
    error = student_exception({"name": "Weird", "types": ["BaseException"], "message": "x"})
    assert type(error) is StudentError
    assert type(student_exception({"name": "SystemExit", "types": ["SystemExit"]})) is StudentError


def test_a_time_out_cannot_be_caught_as_an_exception():
    error = student_exception({"name": "CellTimeoutError", "types": []})
    assert isinstance(error, TestTimeout) and not isinstance(error, Exception)


@pytest.mark.parametrize("garbage", [None, 3, {"types": "ValueError"}, {"types": [1, None]}])
def test_malformed_errors_still_become_exceptions(garbage):
    assert isinstance(student_exception(garbage), Exception)


def test_write_back_reflects_in_place_changes():
    array, items, table = np.zeros(3), [1, [2], np.ones(2)], {"a": [1]}
    write_back([array, items, table], [np.array([1.0, 0, 0]), [9, [8], np.zeros(2)], {"a": [1, 2], "b": 3}])
    assert array.tolist() == [1.0, 0, 0]
    assert items[0] == 9 and items[1] == [8] and items[2].tolist() == [0, 0]
    assert table == {"a": [1, 2], "b": 3}
    frame = pd.DataFrame({"x": [1, 2]})
    write_back([frame], [pd.DataFrame({"x": [1, 2], "y": [3, 4]})])
    assert list(frame.columns) == ["x", "y"]


def test_hidden_lines_are_between_the_markers():
    assert hidden_lines(SOURCE) == {8}


def test_visible_statement_is_the_whole_statement():
    assert visible_statement(SOURCE, 2, hidden_lines(SOURCE)) == "check_equal(f(1), 2)"
    assert visible_statement(SOURCE, 4, hidden_lines(SOURCE)) == "check_equal( f(x), x + 1 )"
    assert visible_statement(SOURCE, 8, hidden_lines(SOURCE)) == ""


def test_feedback_never_carries_the_exception_message():
    hidden = hidden_lines(SOURCE)
    error = ValueError("inputs were -5, -5")
    error.from_student = True
    assert (
        feedback_message(error, SOURCE, 2, hidden) == "your code raised ValueError at: check_equal(f(1), 2)"
    )
    assert feedback_message(error, SOURCE, 8, hidden) == "your code raised ValueError in a hidden test"
    check = AssertionError("got -4.0001, which is not the expected value")
    assert feedback_message(check, SOURCE, 8, hidden) == "a hidden test failed (AssertionError)"
    assert feedback_message(check, SOURCE, 2, hidden) == "AssertionError at: check_equal(f(1), 2)"


def test_a_failed_check_in_a_visible_line_says_what_was_expected():
    hidden = hidden_lines(SOURCE)
    with pytest.raises(CheckFailed) as shape:
        check_equal(np.zeros((2, 3)), np.zeros((3, 2)))
    assert feedback_message(shape.value, SOURCE, 2, hidden) == (
        "AssertionError at: check_equal(f(1), 2) (expected an array of shape (3, 2))"
    )
    # the hint is about the expected side only: the student's shape (2, 3) is not in it
    assert "(2, 3)" not in feedback_message(shape.value, SOURCE, 2, hidden)
    # in the hidden part, nothing of it
    assert feedback_message(shape.value, SOURCE, 8, hidden) == "a hidden test failed (AssertionError)"


def test_no_hint_after_a_hidden_block():
    """A visible line below a hidden block may use its values: its failure gets no hint."""
    source = SOURCE + "\ncheck_equal(f(2), 3)"
    with pytest.raises(CheckFailed) as failed:
        check_equal(1.5, 3)
    assert feedback_message(failed.value, source, 10, hidden_lines(source)) == (
        "AssertionError at: check_equal(f(2), 3)"
    )


@pytest.mark.parametrize(
    "check, hint",
    [
        (lambda: check_equal(1.5, 3), "expected an int"),
        (lambda: check_equal([1], [1, 2]), "expected 2 items"),
        (lambda: check_equal({"a": 1}, {"a": 1, "b": 2}), "expected the keys 'a', 'b'"),
        (
            lambda: check_equal(np.zeros(2, dtype=int), np.zeros(2)),
            "expected an array of floats (dtype kind 'f')",
        ),
        (
            lambda: check_equal(np.ones(2), np.zeros(2)),
            "the shape (2,) and dtype are right; some values are not the expected ones",
        ),
        (lambda: check_equal(4, 5), "the type is right; the value is not the expected one"),
        (lambda: check_raises(ValueError, abs, -1), "expected a ValueError"),
        (lambda: check_one_of("b", ["a", "c"]), "expected one of 'a', 'c'"),
    ],
)
def test_hints_come_from_the_expected_side(check, hint):
    with pytest.raises(CheckFailed) as failed:
        check()
    assert failed.value.hint == hint
    assert f"({hint})" in feedback_message(failed.value, SOURCE, 2, hidden_lines(SOURCE))


def test_the_namespace_falls_back_to_builtins_not_the_student():
    namespace = TestNamespace(x=1)
    exec("y = len([x, x])", namespace)
    assert namespace["y"] == 2
    with pytest.raises(NameError, match="'nope' is not defined"):
        exec("nope", namespace)


@pytest.mark.parametrize(
    "source, message",
    [
        (
            'import warnings\nwarnings.warn("x", RuntimeWarning)\nassert True',
            'a warning (RuntimeWarning) was raised at: warnings.warn("x", RuntimeWarning); a warning fails a test',
        ),
        (
            "import numpy as np\nnp.log(np.zeros(1))",
            "a warning (RuntimeWarning) was raised at: np.log(np.zeros(1)); a warning fails a test",
        ),
        (
            'import warnings\n### BEGIN HIDDEN TESTS\nwarnings.warn("secret 42", UserWarning)\n### END HIDDEN TESTS',
            "a hidden test raised a warning (UserWarning)",
        ),
    ],
)
def test_a_warning_fails_the_test_and_is_named_as_a_warning(source, message):
    outcome, outputs = run_test("t", source, TestNamespace(), None, cell_timeout=10, max_output_chars=10_000)
    assert (outcome.passed, outcome.message) == (False, message)
    assert "secret" not in outcome.message
    assert any(
        o.get("name") == "stderr" and "Warning" in o["text"] for o in outputs
    )  # the instructor sees it


def test_a_clean_test_passes():
    outcome, outputs = run_test(
        "t", "assert 1 + 1 == 2", TestNamespace(), None, cell_timeout=10, max_output_chars=100
    )
    assert outcome.passed and outputs == []
