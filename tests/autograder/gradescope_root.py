"""Run a command in a Debian root the way Gradescope's container runs the autograder.

    unshare --mount --propagation private python gradescope_root.py ROOT CACHE CGROUP_PROCS CMD [WHEELS]
    python gradescope_root.py --here COMMAND [ARGS...]

``--here``: only the namespace refusal below, on this machine (``.ci/run`` runs the
cross-student tests so: bubblewrap installed but unable to start, as on Gradescope).

In the private mount namespace: the host's ``/dev`` and a fresh ``/proc`` in ROOT,
the host's DNS settings and package-index settings (``/etc/pip.conf``, local
certificate authorities, for a site behind a proxy), CACHE's ``pip`` and ``apt``
folders as the root's download caches (a second run downloads less); this process joins the
cgroups whose ``cgroup.procs`` files are listed (comma-separated, may be empty:
the memory limit); WHEELS, a folder of wheels, is bound read-only at the same path in
ROOT (for ``PIP_FIND_LINKS``: a wheel this site has that its network does not give); then ``chroot`` into ROOT and, as Docker's default seccomp
profile does for a container without ``CAP_SYS_ADMIN``, every new namespace and
every mount is refused (``unshare``, ``clone`` with namespace flags, ``setns``,
``mount``): bubblewrap cannot start, as on Gradescope. CMD runs as root, in bash.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyseccomp as seccomp

NAMESPACE_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000,
                   0x20000000, 0x40000000, 0x00000080)


def no_namespaces() -> seccomp.SyscallFilter:
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in ("unshare", "setns", "mount", "umount2", "pivot_root", "fsopen", "open_tree",
                 "move_mount", "fsmount", "mount_setattr"):
        rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
    for flag in NAMESPACE_FLAGS:
        rules.add_rule(seccomp.ERRNO(errno.EPERM), "clone",
                       seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")  # glibc falls back to clone
    return rules


def main(root: str, cache: str, cgroups: str, command: str, wheels: str = "") -> None:
    subprocess.run(["mount", "--rbind", "/dev", f"{root}/dev"], check=True)
    subprocess.run(["mount", "-t", "proc", "proc", f"{root}/proc"], check=True)
    shutil.copy("/etc/resolv.conf", f"{root}/etc/resolv.conf")
    # this site's way to the package indexes (a proxy's certificate authority, pip's settings),
    # as a site's own image would carry them; nothing else of the host goes in
    for site in ("/etc/pip.conf", "/etc/ssl/certs/ca-certificates.crt",
                 *map(str, Path("/usr/local/share/ca-certificates").glob("*.crt"))):
        if os.path.isfile(site):
            os.makedirs(os.path.dirname(f"{root}{site}"), exist_ok=True)
            shutil.copy(site, f"{root}{site}")
    for host, inside in (("pip", "root/.cache/pip"), ("apt", "var/cache/apt/archives")):
        os.makedirs(f"{cache}/{host}/partial", exist_ok=True)
        os.makedirs(f"{root}/{inside}", exist_ok=True)
        subprocess.run(["mount", "--bind", f"{cache}/{host}", f"{root}/{inside}"], check=True)
    if wheels:
        os.makedirs(f"{root}{wheels}", exist_ok=True)
        subprocess.run(["mount", "--bind", wheels, f"{root}{wheels}"], check=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", f"{root}{wheels}"], check=True)
    for procs in filter(None, cgroups.split(",")):
        with open(procs, "w") as handle:
            handle.write(str(os.getpid()))
    rules = no_namespaces()  # built before the chroot: libseccomp is the host's
    os.chroot(root)
    os.chdir("/")
    rules.load()
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "HOME": "/root", "LANG": "C.UTF-8", "DEBIAN_FRONTEND": "noninteractive"}
    os.execve("/bin/bash", ["bash", "-c", command], env)


if __name__ == "__main__":
    if sys.argv[1] == "--here":
        no_namespaces().load()
        os.execvp(sys.argv[2], sys.argv[2:])
    main(*sys.argv[1:6])
