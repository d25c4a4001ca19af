"""Student-facing error texts."""

from __future__ import annotations

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
