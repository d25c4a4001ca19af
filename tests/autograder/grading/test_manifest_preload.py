"""The manifest's ``preload`` and the address-space limit apart from memory."""

from __future__ import annotations

import pytest

from autograder.errors import GraderDefinitionError
from autograder.grading.catalog import Assignment
from autograder.grading.manifest import GiB, parse_manifest
from autograder.sandbox.launch import Limits, MiB, prlimit

QUESTIONS = {"questions": {"q": 1}}


def test_preload_is_a_list_of_module_names():
    assert parse_manifest({**QUESTIONS, "preload": ["torch"]}, "m.toml").preload == ("torch",)
    assert parse_manifest(QUESTIONS, "m.toml").preload == ()
    for bad in ("torch", ["torch", "torch"], ["torch.nn"], ["--x"], [1]):
        with pytest.raises(GraderDefinitionError, match="m.toml: preload: a list of distinct"):
            parse_manifest({**QUESTIONS, "preload": bad}, "m.toml")


def make(root, manifest):
    for folder in ("solutions/hw9", "assignments/hw9"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "solutions/hw9/assignment.toml").write_text(manifest)
    (root / "solutions/hw9/graders.py").write_text("")
    (root / "solutions/hw9/reference.py").write_text("")
    return Assignment.find("hw9", root)


def test_torch_assignments_get_their_limits_under_the_manifests(tmp_path):
    """torch: 2 GiB of address space and 120 s to start, unless [limits] or a flag says else;
    the cgroup memory limit stays the default."""
    torch = make(tmp_path, 'preload = ["torch"]\n[questions]\nq = 1\n')
    assert torch.preload == ("torch",)
    limits = torch.limits()
    assert limits.address_space == 2 * GiB and limits.startup_seconds == 120
    assert limits.memory_bytes == Limits().memory_bytes
    assert torch.limits(startup_seconds=200).startup_seconds == 200
    own = make(tmp_path, 'preload = ["torch"]\n[questions]\nq = 1\n'
                         '[limits]\naddress_space_bytes = 3221225472\n')
    assert own.limits().address_space == 3 * GiB


def test_without_preload_the_limits_are_todays(tmp_path):
    lean = make(tmp_path, "[questions]\nq = 1\n")
    assert lean.preload == () and lean.limits() == Limits()
    assert Limits().address_space == Limits().memory_bytes == 1024 * MiB


def test_the_address_space_rlimit_is_its_own_limit():
    assert "--as=1073741824" in prlimit(Limits())
    assert "--as=2147483648" in prlimit(Limits(address_space_bytes=2 * GiB))
    assert "--as=536870912" in prlimit(Limits(memory_bytes=512 * MiB))  # follows memory if unset
    with pytest.raises(ValueError, match="address_space_bytes must be positive"):
        Limits(address_space_bytes=0)
    with pytest.raises(GraderDefinitionError, match="limits.address_space_bytes: must be a positive int"):
        parse_manifest({**QUESTIONS, "limits": {"address_space_bytes": 1.5}}, "m.toml")
