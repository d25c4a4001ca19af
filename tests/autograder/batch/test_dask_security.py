"""``--cluster local:N`` is closed to every other user of the machine (issue 22 item 2).

While the cluster runs, another local uid (made here with ``useradd``; root only, as in
CI) tries what the attack did: a plain ``dask.distributed.Client`` to the scheduler's port
and ``client.run`` of code that would write a file as the grader. Then with TLS and a
certificate of its own. Each attempt must fail and write nothing. And nothing of the
cluster listens on any address but 127.0.0.1 (the scheduler's HTTP server was on 0.0.0.0).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import sysconfig

import psutil
import pytest

from autograder.batch.dask_executor import _client

PROBE_USER = "ag-dask-probe"
PROBE = r'''
import json, sys
from distributed import Client
from distributed.security import Security

host_port, marker = sys.argv[1], sys.argv[2]

def pwn():
    with open(marker, "w") as handle:
        handle.write("ran as the grader")
    return True

outcome = {}
for kind in ("tcp", "tls-own-certificate", "tls-no-certificate"):
    try:
        if kind == "tcp":
            client = Client(f"tcp://{host_port}", timeout=5)
        elif kind == "tls-own-certificate":
            client = Client(f"tls://{host_port}", security=Security.temporary(), timeout=5)
        else:
            client = Client(f"tls://{host_port}", timeout=5)
        client.run(pwn)
        client.run_on_scheduler(pwn)
        outcome[kind] = "connected and ran"
        client.close()
    except Exception as exc:
        outcome[kind] = f"refused: {type(exc).__name__}"
print(json.dumps(outcome))
'''


def probe_command() -> list[str] | None:
    """A Python the probe user can run with this environment's packages, or None."""
    site = sysconfig.get_paths()["purelib"]
    for python in (sys.executable, shutil.which("python3.11"), "/usr/bin/python3"):
        if not python:
            continue
        command = [*as_probe(), python, "-c", "import distributed, cryptography"]
        check = subprocess.run(command, capture_output=True, env=probe_env(site), check=False,
                               timeout=120)
        if check.returncode == 0:
            return [*as_probe(), python, "-c", PROBE]
    return None


def as_probe() -> list[str]:
    user = pwd.getpwnam(PROBE_USER)
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups",
            "--"]


def probe_env(site: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "PYTHONPATH": site, "HOME": "/tmp",
            "DASK_CONFIG": "/nonexistent"}


@pytest.fixture(scope="module")
def probe():
    if os.geteuid() != 0:
        pytest.skip("needs root: the test creates another local user (useradd) to attack with")
    if not shutil.which("setpriv") or not shutil.which("useradd"):
        pytest.skip("needs setpriv and useradd (util-linux, passwd)")
    created = False
    try:
        pwd.getpwnam(PROBE_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", PROBE_USER], check=True)
        created = True
    try:
        command = probe_command()
        if command is None:
            pytest.skip(f"no Python with distributed that the user {PROBE_USER} may run "
                        f"({sys.executable} is not readable by other users)")
        yield command
    finally:
        if created:
            subprocess.run(["userdel", PROBE_USER], check=False)


def listeners(pids: set[int]) -> list[tuple[str, int]]:
    return [(c.laddr.ip, c.laddr.port) for c in psutil.net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN and c.pid in pids]


def test_another_local_user_cannot_use_the_cluster(probe, tmp_path):
    marker = tmp_path / "pwned"
    tmp_path.chmod(0o777)  # the probe's own writes would land here too: none may
    with _client("local:1") as client:
        address = client.scheduler.address
        run = subprocess.run([*probe, address.split("://", 1)[1], str(marker)],
                             capture_output=True, text=True, check=False, timeout=300,
                             env=probe_env(sysconfig.get_paths()["purelib"]))
        assert client.submit(sum, [1, 2]).result() == 3  # the batch's own client works
    outcome = json.loads(run.stdout.strip().splitlines()[-1]) if run.stdout.strip() else {}
    assert outcome and all(v.startswith("refused") for v in outcome.values()), \
        (outcome, run.stderr[-2000:])
    assert not marker.exists()
    assert address.startswith("tls://127.0.0.1:"), address


def test_every_listener_of_the_local_cluster_is_on_loopback():
    with _client("local:2") as client:
        me = psutil.Process()
        pids = {me.pid, *(p.pid for p in me.children(recursive=True))}
        found = listeners(pids)
        dashboard = client.scheduler_info()["services"].get("dashboard")
    assert found and dashboard and all(ip == "127.0.0.1" for ip, _ in found), found
