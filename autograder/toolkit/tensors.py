"""Student-safe checks on PyTorch values for the hidden graders (trusted side only).

What a worker sends back crosses as data (``autograder.inside.torch_wire``): a
tensor arrives as a fresh ``torch.Tensor`` built from raw bytes of a whitelisted
dtype, a module as ``ModuleData`` (class name, training flag, parameter shapes,
its ``state_dict`` as a dict of tensors, submodules); nothing is unpickled and
no student object reaches this side. ``student.run_module`` returns a
``ModuleRun``.

The helpers follow ``checks``: a failure is a ``GradingFailure`` whose message
is shown to the student verbatim and names only ``what``, the kind of problem
and public facts (types, shapes, dtypes, counts, the key names the assignment
states); never expected values, the student's values, hidden inputs or
tolerances. A problem of the grader itself raises ``ValueError``.

* ``as_tensor``: the type (and shape, dtype) of a value; a detached copy.
* ``expect_close``: type, shape, dtype, finiteness, then values within tolerances.
* ``expect_parameters``: a module's parameter names and shapes, exactly.
* ``as_state_dict``: a state_dict (or a module's) with exactly the stated keys and
  shapes, finite floating tensors; ``load_into``: the same, loaded into the grader's
  own reference module with ``load_state_dict(strict=True)`` (plain tensors only).

torch is imported when a helper runs, never when this module is imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from autograder.errors import redact_numbers
from autograder.inside.protocol import ModuleData

from .checks import GradingFailure, describe

DEFAULT_RTOL = 1e-4
DEFAULT_ATOL = 1e-5
SHOWN_KEYS = 6

__all__ = ["DEFAULT_ATOL", "DEFAULT_RTOL", "ModuleData", "ModuleRun", "as_state_dict",
           "as_tensor", "expect_close", "expect_parameters", "load_into"]


@dataclass(frozen=True)
class ModuleRun:
    """What ``student.run_module`` returns: the module built (as data) and its output."""

    module: ModuleData
    output: Any


def _torch() -> Any:
    import torch

    return torch


def _dtype_name(dtype: Any) -> str:
    return str(dtype).removeprefix("torch.")


def as_tensor(value: Any, *, what: str, shape: tuple[int, ...] | None = None,
              dtype: Any = None) -> Any:
    """A detached copy of ``value`` if it is a tensor (of ``shape`` and ``dtype`` when given)."""
    torch = _torch()
    wanted = "a torch tensor" + (f" of shape {tuple(shape)}" if shape is not None else "") + \
        (f" and dtype {_dtype_name(dtype)}" if dtype is not None else "")
    if type(value) is not torch.Tensor:
        raise GradingFailure(f"{what}: expected {wanted}, got {describe(value)}")
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise GradingFailure(f"{what}: expected {wanted}, got {describe(value)}")
    if dtype is not None and value.dtype != dtype:
        raise GradingFailure(f"{what}: expected {wanted}, got {describe(value)}")
    return value.detach().clone()


def expect_close(value: Any, expected: Any, *, what: str, rtol: float = DEFAULT_RTOL,
                 atol: float = DEFAULT_ATOL, dtype: Any = None) -> None:
    """Check a tensor against the grader's ``expected`` (a tensor or array): type, then shape
    and dtype (``expected``'s, or ``dtype``), finiteness, then
    ``isclose(value, expected, rtol, atol)`` element-wise in float64."""
    torch = _torch()
    reference = torch.as_tensor(expected).detach()
    if not bool(torch.isfinite(reference.to(torch.float64)).all()):
        raise ValueError("the expected tensor is not finite")
    tensor = as_tensor(value, what=what, shape=tuple(reference.shape),
                       dtype=reference.dtype if dtype is None else dtype)
    values = tensor.to(torch.float64)
    bad = int((~torch.isfinite(values)).sum())
    if bad:
        raise GradingFailure(f"{what}: returned NaN or inf in {bad} of {values.numel()} entries")
    close = torch.isclose(values, reference.to(torch.float64), rtol=rtol, atol=atol)
    wrong = int((~close).sum())
    if wrong:
        raise GradingFailure(f"{what}: returned values that differ from the reference solution "
                             f"in {wrong} of {values.numel()} entries")


def expect_parameters(module: Any, shapes: Mapping[str, tuple[int, ...]], *, what: str) -> None:
    """Check that a module (``ModuleData``) has exactly the parameters ``shapes`` names, each
    of its shape. The names and shapes are the assignment's public specification."""
    if type(module) is not ModuleData:
        raise GradingFailure(f"{what}: expected a torch.nn.Module, got {describe(module)}")
    _same_keys(module.parameters, shapes, what=what, kind="parameters")
    for name, shape in shapes.items():
        got = module.parameters[name]
        if tuple(got) != tuple(shape):
            raise GradingFailure(f"{what}: parameter {name} has shape {tuple(got)}, "
                                 f"expected {tuple(shape)}")


def as_state_dict(value: Any, shapes: Mapping[str, tuple[int, ...]], *,
                  what: str) -> dict[str, Any]:
    """A state_dict (or a ``ModuleData``'s) with exactly the keys of ``shapes``, each a finite
    floating tensor of its shape; returned as a dict of detached float32 copies, in the
    order of ``shapes``."""
    torch = _torch()
    state = value.state_dict if type(value) is ModuleData else value
    if type(state) is not dict:
        raise GradingFailure(f"{what}: expected a state_dict (a dict of tensors), "
                             f"got {describe(value)}")
    _same_keys(state, shapes, what=what, kind="keys")
    tensors = {}
    for name, shape in shapes.items():
        tensor = state[name]
        if type(tensor) is not torch.Tensor or not tensor.dtype.is_floating_point:
            raise GradingFailure(f"{what}: {name} should be a floating-point tensor, "
                                 f"got {describe(tensor)}")
        if tuple(tensor.shape) != tuple(shape):
            raise GradingFailure(f"{what}: {name} has shape {tuple(tensor.shape)}, "
                                 f"expected {tuple(shape)}")
        copy = tensor.detach().to(torch.float32).clone()
        if not bool(torch.isfinite(copy).all()):
            raise GradingFailure(f"{what}: {name} holds NaN or inf")
        tensors[name] = copy
    return tensors


def load_into(reference: Any, value: Any, *, what: str) -> Any:
    """Load a student's state_dict (or ``ModuleData``) into the grader's own module.

    The keys and shapes must be exactly the reference's (``as_state_dict``); the
    tensors, fresh float32 copies, are loaded with ``load_state_dict(strict=True)``.
    Returns ``reference``, in eval mode. Only tensors this side built are loaded.
    """
    expected = {name: tuple(t.shape) for name, t in reference.state_dict().items()}
    tensors = as_state_dict(value, expected, what=what)
    reference.load_state_dict(tensors, strict=True)
    return reference.eval()


def _same_keys(got: Mapping[str, Any], wanted: Mapping[str, Any], *, what: str,
               kind: str) -> None:
    missing = [name for name in wanted if name not in got]
    extra = [name for name in got if name not in wanted]
    if not missing and not extra:
        return
    parts = []
    if missing:
        shown = ", ".join(missing[:SHOWN_KEYS]) + (", ..." if len(missing) > SHOWN_KEYS else "")
        parts.append(f"missing {shown}")
    if extra:  # the student's own names: a few, numbers redacted (they could carry inputs)
        shown = ", ".join(redact_numbers(n[:40]) for n in extra[:SHOWN_KEYS])
        parts.append(f"unexpected {shown}" + (", ..." if len(extra) > SHOWN_KEYS else ""))
    raise GradingFailure(f"{what}: the {kind} are not the expected ones ({'; '.join(parts)})")
