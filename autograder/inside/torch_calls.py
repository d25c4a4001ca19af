"""What a worker does for the PyTorch requests of ``worker_serve``, in the student's process.

``backward``: a call, then ``backward`` on what it returned, for gradient checks;
``run_module``: a module class built, set to eval or train mode and run without
grad. Both use the torch the student's code imported (or import it: a tensor
crossed, so the grader asked for torch). What they return is encoded by
``protocol`` as data (tensors, modules as ``ModuleData``), never as objects.
"""

from __future__ import annotations

from typing import Any

import torch_wire  # the copy next to this file


def _torch() -> Any:
    torch = torch_wire.loaded_torch()
    if torch is None:
        import torch
    return torch


def backward(name: str, function: Any, args: list[Any], upstream: Any) -> tuple[Any, tuple[Any, ...]]:
    """``out = function(*args)``; ``out.backward(upstream)``; (out, each argument's grad)."""
    torch = _torch()
    out = function(*args)
    if not torch_wire.is_tensor(type(out), torch):
        raise TypeError(f"{name} returned {torch_wire.type_name(type(out))}, not a tensor")
    out.backward(upstream)
    grads = tuple(arg.grad if torch_wire.is_tensor(type(arg), torch) and arg.requires_grad
                  else None for arg in args)
    return out.detach(), grads


def run_module(name: str, cls: Any, init_args: list[Any], inputs: list[Any],
               training: bool) -> tuple[Any, Any]:
    """``module = cls(*init_args)``; ``module.train(training)``; ``module(*inputs)`` without grad."""
    torch = _torch()
    if not isinstance(cls, type) or not issubclass(cls, torch.nn.Module):
        raise TypeError(f"{name} is not a subclass of torch.nn.Module")
    module = cls(*init_args)
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"{name}() did not make a torch.nn.Module")
    module.train(training)
    with torch.no_grad():
        out = module(*inputs)
    return module, out
