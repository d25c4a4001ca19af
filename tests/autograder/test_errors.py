"""Student-facing error texts."""

from __future__ import annotations

import pytest

from autograder.errors import MissingName, StudentException, StudentTimeout


def test_student_exception_text_has_numbers_redacted():
    """A student's own exception message cannot echo hidden inputs into feedback."""
    feedback = StudentException("f", "ValueError", "got [[0.123 1.5e-3] 12345 -7.0 2e5] (784, 1)").feedback
    assert feedback == "`f` raised ValueError: got [[# #] # -# #] (784, 1)"


def test_named_constructors_say_what_happened():
    assert MissingName.for_name("xor").feedback == "`xor` is not defined in the notebook"
    assert "within 5 s" in StudentTimeout.for_call("sigmoid", 5).feedback


def test_exception_class_names_made_from_inputs_are_redacted_too():
    """`type(str(x), (Exception,), {})` cannot smuggle an input out through its name."""
    feedback = StudentException("f", "E0.7302", "").feedback
    assert "0.7302" not in feedback and feedback == "`f` raised E#"


@pytest.mark.parametrize("text, shown", [
    ("x was three point one four", "x was #"),
    ("got minus two", "got #"),
    ("twenty-three and four", "#"),
    ("3 point 14", "#"),
    ("value 0.4831", "value #"),
    ("numpy 0.48312", "numpy #"),
    ("Python 3.141", "Python #"),
])
def test_spelled_and_disguised_numbers_are_redacted(text, shown):
    from autograder.errors import redact_numbers

    assert redact_numbers(text) == shown


@pytest.mark.parametrize("text", ["NumPy 2.0 is required", "needs Python 3.11.7",
                                  "shape (784, 1)", "one of the inputs", "I have one apple and two pears"])
def test_versions_shapes_and_single_words_stay(text):
    from autograder.errors import redact_numbers

    assert redact_numbers(text) == text
