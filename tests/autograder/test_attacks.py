"""Hostile HW1 submissions against the sandboxed grader (docs: architecture.md, "The trust boundary").

Every attack is a notebook built here with nbformat from either

* ``REF``: the reference solution (``solutions/hw1/reference.py`` without its header), which
  earns 100 when graded honestly, or
* ``WRONG``: a wrong solution whose functions return the right *types* but wrong values
  (it earns only the small "type" tests, 18 points, graded alone in the same batch),

plus attack cells. A cheating attack on ``WRONG`` must earn exactly what ``WRONG`` earns; a
robustness attack on ``REF`` must cost exactly the questions it breaks and nothing else.
Attack cells that *probe* the sandbox (file reads, writes, network, privileges) raise
``RuntimeError("HOLE: ...")`` when a probe succeeds, so a hole shows up in the record's
``cells`` and the test fails honestly.

All attack notebooks of one mode are graded in ONE batch (``jobs=2``, tight limits) by a
module-scoped fixture; each test looks up its student's record.

Modes:

* ``bwrap`` (the real sandbox): every attack. Skipped, with a reason, when bubblewrap is
  missing or cannot start here.
* ``nobwrap`` (``AUTOGRADER_NO_BWRAP=1``, run in a fresh interpreter because the forkserver and
  ``bubblewrap_problem()`` fix the mode once per process): only the attacks the fallback still
  defeats, because it keeps the JSON boundary and the rlimits (comparison patches, lying
  objects, exits, time-outs, crashes, memory, output floods, forged replies).

  The fallback does NOT defend (so these attacks are not run in that mode, several would harm
  the machine running the tests): the worker is a plain process of the grading user (root
  here) in a temp dir, so it can read the graders, the reference, other submissions and the out
  folder (``read-secrets``, ``tamper-submissions``); write forged ``results.json`` /
  ``gradebook.csv`` anywhere the grading user can (``forge-results``); plant ``.pth`` /
  ``sitecustomize.py`` / ``numpy.py`` into the venv or the grader's cwd, hijacking later
  grading processes (``plant-hijack``); open network connections (``network``); leave
  children that escape the process group with ``setsid`` / ``start_new_session`` and outlive
  grading (``orphan-daemons``); as root, ignore ``RLIMIT_NPROC`` (``fork-bomb``), raise its own
  hard limits (``rlimit-raise``), ``setuid``/``mount``/``unshare`` (``privileges``,
  ``userns-tmpfs-bomb``); and ``os.kill(os.getppid(), 9)`` / ``os.kill(-1, 9)`` kill the grading
  process or every process of the user (``kill-parent``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from autograder.gradebook.results import SubmissionResult, TestOutcome
from autograder.sandbox.launch import INSIDE_DIR, SANDBOX_LIB, UID_BASE

# the engine's files the sandbox sees at SANDBOX_LIB (the folder autograder/inside, bound whole)
ENGINE_FILES = tuple(sorted(p.name for p in INSIDE_DIR.glob("*.py")))
REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
SEED = 474
# Limits of every batch: see attacks/grade_batch.py (cell 2 s, call 1 s, submission 25 s,
# interrupt grace 0.5 s, 1024 MiB address space).
QUESTIONS = {"perceptron": 15, "sigmoid": 10, "neural_network": 25, "mean_squared_error": 10,
             "sigmoid_cross_entropy": 15, "softmax": 10, "softmax_cross_entropy": 15}
WRONG_EXPECTED = {"perceptron": 2, "sigmoid": 2, "neural_network": 6, "mean_squared_error": 2,
                  "sigmoid_cross_entropy": 2, "softmax": 2, "softmax_cross_entropy": 2}
PARTLY_WRONG_EXPECTED = dict(QUESTIONS, perceptron=13, mean_squared_error=2)
WEAKENED = "SANDBOX WEAKENED"
# Text that exists only in trusted files: none of it may reach any record or results.json.
SECRETS = ("GENERATED FILE - DO NOT EDIT", "np.logaddexp(0.0", "LECTURE_SQUARED_ERROR",
           "bias_first_forward", "def boundary_perceptron_cases")


def _reference_code() -> str:
    lines = (REPO / "solutions" / "hw1" / "reference.py").read_text().splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "".join(lines)


REF = _reference_code()
REF_FIRST, REF_SECOND = REF.split("def sigmoid(x):")
REF_SECOND = "def sigmoid(x):" + REF_SECOND

WRONG = '''
import numpy as np

def perceptron(x1, x2, w):
    w0, w1, w2 = w
    return 0 if w0 + w1 * x1 + w2 * x2 >= 0 else 1

AND_WEIGHTS = (0.5, 1, 1)
OR_WEIGHTS = (-2.5, 1, 1)

def xor(x1, x2):
    return 0

def sigmoid(x):
    s = np.tanh(np.asarray(x, dtype=np.float64))
    return float(s) if np.ndim(s) == 0 else s

def neural_network(x, w1, w2):
    hidden = np.tanh(w1 @ np.vstack([[1.0], x]))
    return np.tanh(w2 @ np.vstack([[1.0], hidden]))

def predict(x, w1, w2):
    return 0

def mean_squared_error(y_hat, y):
    return float(np.mean((np.asarray(y_hat) - np.asarray(y)) ** 2)) + 1.0

def sigmoid_cross_entropy(y_hat, y):
    return float(np.sum(y_hat)) + 1.0

def softmax(z):
    z = np.asarray(z, dtype=np.float64)
    return z - z.max() - 1.0

def softmax_cross_entropy(y_hat, y):
    return float(np.sum(y)) + 7.0
'''

PARTLY_WRONG = REF.replace("return 1 if w0 + w1 * x1 + w2 * x2 >= 0 else 0",
                           "return 1 if w0 + w1 * x1 + w2 * x2 > 0 else 0").replace(
    "return float(np.sum((np.asarray(y_hat) - np.asarray(y)) ** 2))",
    "return float(np.mean((np.asarray(y_hat) - np.asarray(y)) ** 2))")
assert PARTLY_WRONG.count("> 0 else 0") == 1 and "np.mean" in PARTLY_WRONG


def dedent(text: str) -> str:
    return textwrap.dedent(text).strip("\n") + "\n"


# --------------------------------------------------------------------------- attack cells

PATCH_NUMPY = dedent('''
    import math, numpy as np, numpy.testing
    np.allclose = lambda *a, **k: True
    np.isclose = lambda a, b, *r, **k: np.ones(np.broadcast(np.asarray(a), np.asarray(b)).shape, bool)
    np.array_equal = lambda *a, **k: True
    np.testing.assert_allclose = lambda *a, **k: None
    np.testing.assert_array_almost_equal = lambda *a, **k: None
    math.isclose = lambda *a, **k: True
    for name in ("numpy.core.numeric", "numpy._core.numeric"):
        try:
            module = __import__(name, fromlist=["isclose"])
            module.isclose, module.allclose = np.isclose, np.allclose
        except Exception:
            pass
''')

PATCH_PYTEST = dedent('''
    import builtins, sys, types
    import pytest, _pytest.outcomes
    pytest.fail = _pytest.outcomes.fail = lambda *a, **k: None
    pytest.approx = lambda *a, **k: type("Any", (), {"__eq__": lambda s, o: True})()
    builtins.AssertionError = type("AssertionError", (Exception,), {})
    fake = types.ModuleType("autograder.toolkit.checks")
    for name in ("expect_float", "expect_int", "expect_array", "as_float", "as_int", "as_array"):
        setattr(fake, name, lambda *a, **k: None)
    sys.modules["autograder"] = types.ModuleType("autograder")
    sys.modules["autograder.toolkit.checks"] = fake
    sys.modules["pytest"].main = lambda *a, **k: 0
''')

LIE_EQ = dedent('''
    class Liar:
        def __eq__(self, other): return True
        def __ne__(self, other): return False
        def __int__(self): return 1
        def __index__(self): return 1
        def __float__(self): return 1.0
        __hash__ = object.__hash__

    class LiarInt(int):
        def __eq__(self, other): return True
        def __ne__(self, other): return False
        __hash__ = int.__hash__

    class LiarTuple(tuple):
        def __eq__(self, other): return True
        __hash__ = tuple.__hash__

    class LiarDict(dict):
        def __eq__(self, other): return True
        __hash__ = None

    def perceptron(x1, x2, w):
        return Liar()

    def xor(x1, x2):
        return LiarInt(x1 ^ x2)

    AND_WEIGHTS = LiarTuple((-1.5, 1, 1))
    OR_WEIGHTS = LiarDict({0: -0.5, 1: 1, 2: 1})
''')

LIE_FLOAT = dedent('''
    import numpy as np

    class LiarFloat(float):
        def __eq__(self, other): return True
        def __ne__(self, other): return False
        def __sub__(self, other): return 0.0
        def __rsub__(self, other): return 0.0
        def __abs__(self): return 0.0
        def __lt__(self, other): return True
        def __le__(self, other): return True
        __hash__ = float.__hash__

    class LiarFloat64(np.float64):
        def __eq__(self, other): return True
        __hash__ = np.float64.__hash__

    def mean_squared_error(y_hat, y):
        return LiarFloat(1.58)

    def sigmoid_cross_entropy(y_hat, y):
        return LiarFloat(0.0)

    def softmax_cross_entropy(y_hat, y):
        return LiarFloat64(0.0)
''')

LIE_NDARRAY = dedent('''
    import numpy as np

    class LiarArray(np.ndarray):
        def __eq__(self, other): return np.ones(self.shape, bool)
        def __ne__(self, other): return np.zeros(self.shape, bool)
        def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
            return np.ones(self.shape, bool)
        __hash__ = None

    def sigmoid(x):
        return np.zeros(np.shape(x)).view(LiarArray)

    def softmax(z):
        return np.zeros(np.shape(z)).view(LiarArray)

    def neural_network(x, w1, w2):
        return np.matrix(np.zeros((w2.shape[0], 1)))
''')

LIE_ARRAY_PROTOCOL = dedent('''
    import numpy as np

    class FakeArray:
        def __init__(self, shape): self.shape, self.dtype, self.ndim = shape, np.dtype(float), len(shape)
        def __array__(self, dtype=None, copy=None): return np.zeros(self.shape)
        def __array_function__(self, func, types, args, kwargs): return True
        def __array_ufunc__(self, ufunc, method, *inputs, **kwargs): return True
        @property
        def __array_interface__(self): return np.zeros(self.shape).__array_interface__
        def __eq__(self, other): return True
        def __len__(self): return self.shape[0]
        __hash__ = None

    class FakeIndex:
        def __index__(self): return 3
        def __int__(self): return 3
        def __eq__(self, other): return True
        __hash__ = None

    def neural_network(x, w1, w2):
        return FakeArray((w2.shape[0], 1))

    def predict(x, w1, w2):
        return FakeIndex()
''')

LIE_CONTAINERS = dedent('''
    class LiarList(list):
        def __eq__(self, other): return True
        __hash__ = None

    class LiarDict(dict):
        def __eq__(self, other): return True
        __hash__ = None

    def softmax(z):
        return LiarList([[1.0 / len(z)] for _ in range(len(z))])

    def softmax_cross_entropy(y_hat, y):
        return LiarDict(value=0.0)

    def mean_squared_error(y_hat, y):
        return (1.58,)
''')

LIE_DUNDERS = dedent('''
    import time

    class Hostile(list):
        def __repr__(self): raise RuntimeError("no repr for you")
        def __str__(self): raise RuntimeError("no str for you")
        def __len__(self): raise RuntimeError("no len for you")
        def __iter__(self): raise RuntimeError("no iter for you")
        def __getattribute__(self, name): raise RuntimeError("no attributes for you")

    class Hanging:
        def __repr__(self):
            while True: pass
        __str__ = __repr__
        def __len__(self):
            while True: pass
        def __float__(self):
            while True: pass

    class HangsWhenFreed(float):
        def __del__(self):
            while True: time.sleep(0.01)

    def sigmoid_cross_entropy(y_hat, y):
        return Hostile([0.0]) if y_hat.shape[0] % 2 else [Hanging()]

    def softmax_cross_entropy(y_hat, y):
        return HangsWhenFreed(0.0)
''')

HOSTILE_EXCEPTIONS_TOP = dedent('''
    class BadStr(Exception):
        def __str__(self): raise RuntimeError("str raised")
        def __repr__(self): raise RuntimeError("repr raised")
    raise BadStr()
''')

HOSTILE_EXCEPTIONS_HANG_TOP = dedent('''
    class HangStr(Exception):
        def __str__(self):
            while True: pass
    raise HangStr()
''')

HOSTILE_EXCEPTIONS_FN = dedent('''
    class HangStr(Exception):
        def __str__(self):
            while True: pass

    class NamelessMeta(type):
        @property
        def __name__(cls): raise RuntimeError("no name for you")

    class Nameless(Exception, metaclass=NamelessMeta):
        pass

    def softmax_cross_entropy(y_hat, y):
        raise HangStr()

    def softmax(z):
        raise Nameless("x")
''')

OS_EXIT = "import os\nos._exit(0)\n"
SYS_EXIT = "import sys\nsys.exit(0)\n"
RAISE_SYSTEMEXIT = "raise SystemExit(0)\n"
EXIT_BUILTINS = "exit()\n"

EXIT_IN_FUNCTIONS = dedent('''
    import os, sys

    def xor(x1, x2):
        os._exit(0)

    def mean_squared_error(y_hat, y):
        sys.exit(0)

    def softmax(z):
        raise SystemExit("done")
''')

LOOP = "while True:\n    pass\n"
LOOP_SIGINT_IGNORED = dedent('''
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        pass
''')
LOOP_CATCH_KI = dedent('''
    while True:
        try:
            while True:
                pass
        except KeyboardInterrupt:
            pass
''')
LOOP_FN = dedent('''
    def sigmoid_cross_entropy(y_hat, y):
        while True:
            pass
''')
LOOP_FN_SIGINT_IGNORED = dedent('''
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

    def softmax_cross_entropy(y_hat, y):
        while True:
            pass
''')
LOOP_FN_CATCH_KI = dedent('''
    def softmax_cross_entropy(y_hat, y):
        while True:
            try:
                while True:
                    pass
            except BaseException:
                pass
''')

MEMBOMB_TOP = "import numpy as np\nhog = np.ones(3 * 2**30 // 8 * 2)\n"
MEMBOMB_TOP_2 = "hog = bytearray(4 * 2**30)\n"
MEMBOMB_FN = dedent('''
    def softmax_cross_entropy(y_hat, y):
        return bytearray(8 * 2**30)
''')

USERNS_TMPFS_BOMB = dedent('''
    import ctypes, os
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(0x10000000 | 0x00020000) == 0:          # CLONE_NEWUSER | CLONE_NEWNS
        open("/proc/self/setgroups", "w").write("deny")
        open("/proc/self/uid_map", "w").write(f"0 {uid} 1")
        open("/proc/self/gid_map", "w").write(f"0 {gid} 1")
        os.makedirs("/home/student/big", exist_ok=True)
        if libc.mount(b"none", b"/home/student/big", b"tmpfs", 0, b"size=8g") == 0:
            pinned = 0
            for i in range(80):
                fd = os.open(f"/home/student/big/f{i}", os.O_CREAT | os.O_WRONLY, 0o600)
                try:
                    os.posix_fallocate(fd, 0, 16 * 2**20)
                    pinned += 16
                except OSError:
                    break
                finally:
                    os.close(fd)
            if pinned > 1024:
                raise RuntimeError(f"HOLE: user namespace + private tmpfs pinned {pinned} MiB of "
                                   "RAM past the 1024 MiB memory limit and the 64 MiB scratch")
''')

FORK_BOMB = dedent('''
    import os, threading, time
    children, threads = [], []
    for _ in range(500):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            time.sleep(1000)
            os._exit(0)
        children.append(pid)
    for _ in range(500):
        try:
            t = threading.Thread(target=time.sleep, args=(1000,), daemon=True)
            t.start()
            threads.append(t)
        except RuntimeError:
            break
    if len(children) + len(threads) >= 60:
        raise RuntimeError(f"HOLE: {len(children)} processes and {len(threads)} threads started")
''')

NAIVE_FORK_BOMB = "import os\nwhile True:\n    os.fork()\n"

ORPHANS = dedent('''
    import os, subprocess, time
    subprocess.Popen(["sleep", "1000"], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            for fd in range(3, 64):
                try:
                    os.close(fd)
                except OSError:
                    pass
            os.execvp("sleep", ["sleep", "1000"])
        os._exit(0)
    os.waitpid(pid, 0)
    time.sleep(0.2)
''')

THREADS = dedent('''
    import os, sys, threading, time

    def chatter():
        while True:
            print("chatter " * 20)
            sys.stderr.write("err\\n")
            os.write(1, b"raw chatter\\n")
            time.sleep(0.002)

    def spinner():
        x = 0
        while True:
            x += 1

    threading.Thread(target=chatter, daemon=True).start()
    threading.Thread(target=spinner, daemon=True).start()
    threading.Thread(target=chatter).start()
''')

OUTPUT_FLOOD = dedent('''
    import os, sys
    print("A" * 100_000_000)
    sys.stderr.write("E" * 10_000_000)
    chunk = b"B" * (1 << 20)
    for _ in range(100):
        os.write(1, chunk)
''')
OUTPUT_FLOOD_FN = dedent('''
    _quiet_sigmoid = sigmoid

    def sigmoid(x):
        print("C" * 1_000_000)
        return _quiet_sigmoid(x)
''')

READ_SECRETS = dedent('''
    import json, os
    found, texts = [], []
    OWN = {*ENGINE_PATHS, "/home/student/digits.npz"}

    def grab(path):
        try:
            with open(path, "rb") as handle:
                data = handle.read(4_000_000)
        except Exception:
            return None
        if os.path.realpath(path) in OWN or path in OWN:
            return None
        found.append(path)
        texts.append(data[:300].decode(errors="replace"))
        return data.decode(errors="replace")

    def correct(namespace):
        try:
            return abs(namespace["sigmoid"](0.0) - 0.5) < 1e-9 and namespace["xor"](0, 1) == 1
        except BaseException:
            return False

    def use(path, text):
        if text is None or "HOLE: read" in text:  # not our own notebook
            return
        namespace = {}
        if path.endswith(".py") and "def " in text:
            try:
                exec(compile(text, path, "exec"), namespace)
            except BaseException:
                pass
        elif path.endswith(".ipynb"):
            try:
                for cell in json.loads(text)["cells"]:
                    if cell["cell_type"] == "code":
                        try:
                            exec("".join(cell["source"]), namespace)
                        except BaseException:
                            pass
            except Exception:
                pass
        if correct(namespace):
            globals().update({k: v for k, v in namespace.items() if not k.startswith("__")})

    candidates = ["/work/main/solutions/hw1/reference.py", "/work/main/solutions/hw1/graders.py",
                  "/work/main/solutions/hw1/hw1-master.ipynb", "/work/main/grading/hw1/gradebook.csv",
                  "/proc/1/root/work/main/solutions/hw1/reference.py",
                  "/proc/self/root/work/main/solutions/hw1/reference.py"]
    pids = [p for p in os.listdir("/proc") if p.isdigit()] + [str(os.getppid())]
    for pid in pids:
        for sub in ("cwd", "root"):
            for tail in ("solutions/hw1/reference.py", "work/main/solutions/hw1/reference.py",
                         "solutions/hw1/graders.py"):
                candidates.append(f"/proc/{pid}/{sub}/{tail}")
        candidates.append(f"/proc/{pid}/environ")
    for path in candidates:
        text = grab(path)
        if path.endswith("environ") and text:
            found.pop(); texts.pop()   # our own environment is no secret
            continue
        use(path, text)

    # mount discovery: walk every mount point that is not the system or the Python install
    import sys
    skip = ("/usr", "/etc", "/proc", "/dev", "/sys", os.path.realpath(sys.base_prefix),
            os.path.realpath(sys.prefix), "/opt/autograder")
    points = set()
    for line in open("/proc/self/mountinfo"):
        point = line.split()[4]
        if point != "/" and not point.startswith(skip):
            points.add(point)
    points.update(os.path.join("/", entry) for entry in os.listdir("/")
                  if not os.path.join("/", entry).startswith(skip)
                  and not os.path.islink(os.path.join("/", entry)))
    wanted = ("reference.py", "hw1.py", "gradebook.csv", "results.json", "run.txt")
    for point in sorted(points):
        seen = 0
        for folder, dirs, files in os.walk(point):
            dirs[:] = [d for d in dirs if not os.path.join(folder, d).startswith(skip)]
            for name in files:
                seen += 1
                path = os.path.join(folder, name)
                if (name in wanted or name.endswith(".ipynb")) and path not in OWN:
                    use(path, grab(path))
            if seen > 20000:
                break
    if found:
        raise RuntimeError("HOLE: read " + ", ".join(found[:20]) + " :: " + " | ".join(texts[:3]))
''').replace("ENGINE_PATHS", repr([f"{SANDBOX_LIB}/{name}" for name in ENGINE_FILES]))

FORGE_RESULTS = dedent('''
    import json, os
    forged = json.dumps({"score": 100.0, "max_score": 100.0, "output": "FORGED", "tests": []})
    book = "student_id,status,score,max_score\\nSID,graded,100,100\\n"
    places = {os.getcwd(), os.path.expanduser("~"), "/tmp", "/", "/opt/autograder", "/proc/1/cwd",
              "/work/main", "/work/main/grading/hw1", "/proc/self/cwd/.."}
    for line in open("/proc/self/mountinfo"):
        places.add(line.split()[4])
    for place in list(places):
        while place not in ("/", ""):
            place = os.path.dirname(place)
            places.add(place)
    wrote = []
    for place in sorted(places):
        for name, text in (("results.json", forged), ("gradebook.csv", book),
                           ("SID/results.json", forged)):
            path = os.path.join(place, name.replace("SID", "a-forge-results"))
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as handle:
                    handle.write(text.replace("SID", "a-forge-results"))
                wrote.append(path)
            except Exception:
                pass
    # home, its parent and /tmp are this worker's own tmpfs, discarded with it
    escaped = [p for p in wrote if not os.path.realpath(p).startswith(("/home/", "/tmp/"))]
    if escaped:
        raise RuntimeError("HOLE: wrote " + ", ".join(escaped))
''')

PLANT_HIJACK = dedent('''
    import os, site, sys
    payload = "import os\\nos.environ['HIJACKED'] = '1'\\nraise SystemExit('hijacked by a submission')\\n"
    pth = "import os; os.environ['HIJACKED'] = '1'\\n"
    dirs = {os.getcwd(), os.path.expanduser("~"), "/tmp", "/opt/autograder", "/work/main",
            "/work/main/autograder", "/work/main/.venv/lib/python3.11/site-packages",
            "/proc/1/cwd", "/tmp/ipython/profile_default/startup", "/tmp/matplotlib"}
    dirs.update(p for p in sys.path if p)
    try:
        dirs.update(site.getsitepackages())
    except Exception:
        pass
    wrote = []
    for folder in sorted(dirs):
        for name, text in (("numpy.py", payload), ("sitecustomize.py", payload),
                           ("usercustomize.py", payload), ("zz_attack.pth", pth),
                           ("pytest.py", payload), ("conftest.py", payload),
                           ("00-attack.py", payload),
                           *((engine_file, payload) for engine_file in ENGINE_NAMES)):
            path = os.path.join(folder, name)
            try:
                os.makedirs(folder, exist_ok=True)
                with open(path, "w") as handle:
                    handle.write(text)
                wrote.append(path)
            except Exception:
                pass
    escaped = [p for p in wrote if not os.path.realpath(p).startswith(("/home/", "/tmp/"))]
    if escaped:
        raise RuntimeError("HOLE: planted " + ", ".join(escaped))
''').replace("ENGINE_NAMES", repr(ENGINE_FILES))
PLANT_CHECK = dedent('''
    import importlib, os, sys
    importlib.invalidate_caches()
    sys.modules.pop("json", None)
    import json
    if os.environ.get("HIJACKED"):
        raise RuntimeError("HOLE: a planted file ran in this process")
''')

TAMPER_SUBMISSIONS = dedent('''
    import os, sys
    touched = []
    for line in open("/proc/self/mountinfo"):
        point = line.split()[4]
        if point == "/" or point.startswith(("/usr", "/etc", "/proc", "/dev", "/sys",
                                             os.path.realpath(sys.base_prefix),
                                             os.path.realpath(sys.prefix))):
            continue
        for folder, dirs, files in os.walk(point):
            for name in files:
                path = os.path.join(folder, name)
                if name.endswith((".ipynb", ".json", ".csv")):
                    try:
                        with open(path, "w") as handle:
                            handle.write("{}")
                        touched.append(path)
                    except Exception:
                        pass
                    try:
                        os.remove(path)
                        touched.append(path)
                    except Exception:
                        pass
    for path in ("/work/main/solutions/hw1/reference.py", "/work/main/solutions/hw1/graders.py"):
        try:
            os.remove(path)
            touched.append(path)
        except Exception:
            pass
    if touched:
        raise RuntimeError("HOLE: changed " + ", ".join(touched))
''')

NETWORK = dedent('''
    import socket
    reached = []
    for host, port in (("127.0.0.1", @PORT@), ("1.1.1.1", 53), ("8.8.8.8", 53), ("9.9.9.9", 443)):
        s = socket.socket()
        s.settimeout(0.3)
        try:
            s.connect((host, port))
            reached.append(f"tcp {host}:{port}")
        except Exception:
            pass
        finally:
            s.close()
    try:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.sendto(b"x", ("8.8.8.8", 53))
        reached.append("udp 8.8.8.8:53")
    except Exception:
        pass
    try:
        socket.getaddrinfo("example.com", 80)
        reached.append("dns")
    except Exception:
        pass
    try:
        a = socket.socket(socket.AF_UNIX)
        a.connect("\\0@ABSTRACT@")
        reached.append("abstract unix socket of the host")
    except Exception:
        pass
    if reached:
        raise RuntimeError("HOLE: network " + ", ".join(reached))
''')

FORGED_REPLY_PATCH = dedent('''
    import sys
    proto = sys.modules["protocol"]
    _real_write_frame = proto.write_frame

    def lying_write_frame(fd, message):
        message = dict(message, passed=True, score=100, grade="A+", feedback="Passed.")
        if message.get("status") in ("exception", "missing", "interrupted", "not_callable"):
            message.update(status="ok", value=1.0)
        return _real_write_frame(fd, message)

    proto.write_frame = lying_write_frame
''')

FORGED_REPLY_RAW = dedent('''
    import json, os, struct, sys
    reply_fd = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2].isdigit() else 4

    def frame(message):
        payload = json.dumps(message).encode()
        return struct.pack(">Q", len(payload)) + payload

    os.write(reply_fd, b"".join(frame({"id": i, "status": "ok", "value": 1.0, "passed": True})
                                for i in range(1, 300)))
''')

FORGED_REPLY_STACK = dedent('''
    import json, os, struct, sys
    import numpy as np
    _reply_fd = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2].isdigit() else 4

    def mean_squared_error(y_hat, y):
        frame, request_id = sys._getframe(), None
        while frame is not None:
            request = frame.f_locals.get("request")
            if isinstance(request, dict) and "id" in request:
                request_id = request["id"]
                break
            frame = frame.f_back
        payload = json.dumps({"id": request_id, "status": "ok", "value": 1.58}).encode()
        os.write(_reply_fd, struct.pack(">Q", len(payload)) + payload)
        return float(np.mean((np.asarray(y_hat) - np.asarray(y)) ** 2)) + 1.0
''')

CLOSE_FDS = dedent('''
    import os, sys
    fds = [int(a) for a in sys.argv[1:3] if a.isdigit()] or [3, 4]
    for fd in fds:
        os.close(fd)
''')

DEEP_NESTED = dedent('''
    def _deep(n, make):
        value = 0.5
        for _ in range(n):
            value = make(value)
        return value

    AND_WEIGHTS = _deep(100_000, lambda v: [v])

    def sigmoid_cross_entropy(y_hat, y):
        return _deep(100_000, lambda v: [v])

    def softmax(z):
        return _deep(100_000, lambda v: {"v": v})
''')

HUGE_ARRAY = dedent('''
    import numpy as np

    def mean_squared_error(y_hat, y):
        return np.zeros(1_200_000)  # 9.6 MB of float64, 12.8 MB as a reply: over the 8 MiB cap
''')

SEGFAULT_TOP = "import ctypes\nctypes.string_at(0)\n"
SEGFAULT_FN = dedent('''
    import ctypes

    def sigmoid_cross_entropy(y_hat, y):
        ctypes.string_at(0)
''')

RECURSION_TOP = dedent('''
    import sys
    sys.setrecursionlimit(10**7)

    def f(n):
        return list(map(f, [n + 1]))

    f(0)
''')
RECURSION_FN = dedent('''
    import sys
    sys.setrecursionlimit(10**7)

    def _down(n):
        return list(map(_down, [n + 1]))

    def softmax_cross_entropy(y_hat, y):
        return _down(0)
''')

PRIVILEGES = dedent('''
    import ctypes, os
    libc = ctypes.CDLL(None, use_errno=True)
    gained = []
    for name, attempt in (("setuid(0)", lambda: os.setuid(0)), ("setgid(0)", lambda: os.setgid(0)),
                          ("seteuid(0)", lambda: os.seteuid(0)), ("setgroups([0])", lambda: os.setgroups([0])),
                          ("chroot", lambda: os.chroot("/")), ("open /dev/mem", lambda: open("/dev/mem", "rb")),
                          ("open /proc/kcore", lambda: open("/proc/kcore", "rb").read(1)),
                          ("write /proc/sys", lambda: open("/proc/sys/kernel/hostname", "w").write("x"))):
        try:
            attempt()
            gained.append(name)
        except Exception:
            pass
    if libc.mount(b"none", b"/home/student", b"tmpfs", 0, None) == 0:
        gained.append("mount")
    if libc.sethostname(b"pwned", 5) == 0:
        gained.append("sethostname")
    if os.getuid() == 0 or os.geteuid() == 0:
        gained.append("uid 0")
    if gained:
        raise RuntimeError("HOLE: " + ", ".join(gained))
''')

UNSHARE_USERNS = dedent('''
    import ctypes, os
    libc = ctypes.CDLL(None, use_errno=True)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        ok = [name for name, flag in (("user", 0x10000000), ("mount", 0x00020000), ("net", 0x40000000))
              if libc.unshare(flag) == 0]
        os.write(write, ",".join(ok).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    gained = os.read(read, 100).decode()
    if gained:
        raise RuntimeError("HOLE: unshare() of namespaces succeeded: " + gained)
''')

KILL_PARENT = dedent('''
    import os, signal
    for target in (os.getppid(), -1, 1):
        try:
            os.kill(target, signal.SIGKILL)
        except Exception:
            pass
    for pid in range(2, 4000):
        try:
            os.kill(pid, signal.SIGKILL)
        except Exception:
            pass
''')

RLIMIT_RAISE = dedent('''
    import resource
    raised = []
    for name in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_NPROC", "RLIMIT_FSIZE", "RLIMIT_NOFILE"):
        limit = getattr(resource, name)
        soft, hard = resource.getrlimit(limit)
        try:
            resource.setrlimit(limit, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            raised.append(name)
        except (ValueError, OSError):
            pass
    if raised:
        raise RuntimeError("HOLE: raised " + ", ".join(raised))
''')
RLIMIT_THEN_ALLOCATE = "hog = bytearray(2 * 2**30)\n"

ALARM_SELF = dedent('''
    import signal
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(1)
''')

HONEST_MAGICS = [
    "%%time\n" + REF,
    "%matplotlib inline\n",
    "!ls -la\n",
    "files = !ls\n",
    "%timeit -n1 -r1 sigmoid(0.0)\n",
    "%%bash\necho hello\n",
    "%pip install requests\n",
    "%%capture captured\nprint('hidden')\n",
    dedent('''
        import matplotlib.pyplot as plt
        plt.plot([0, 1], [sigmoid(0.0), sigmoid(1.0)])
        plt.show()
    '''),
]


# --------------------------------------------------------------------------- the catalogue


@dataclass(frozen=True)
class Attack:
    """One hostile submission and exactly what grading it must give."""

    sid: str
    doc: str
    cells: tuple[str, ...]
    base: str  # "ref": 100-point reference, "wrong": WRONG (its scores measured in the same batch)
    scores: dict[str, float] = field(default_factory=dict)  # overrides of the base's question scores
    status: str = "graded"
    at_most_base: bool = False  # chaotic by nature: assert no question above the base's
    cells_contain: tuple[str, ...] = ()
    feedback: tuple[tuple[str, str], ...] = ()  # (question, text every failed test of it shows)
    nobwrap: bool = True  # also run with the AUTOGRADER_NO_BWRAP fallback


def _a(sid: str, doc: str, base: str, *cells: str, **kw) -> Attack:
    code = REF if base == "ref" else WRONG
    return Attack(sid, doc, (code, *cells), base, **kw)


ATTACKS = [
    _a("c-patch-numpy", "np.allclose/isclose/testing patched in the worker: no effect on the grader",
       "wrong", PATCH_NUMPY),
    _a("c-patch-pytest", "pytest, AssertionError and a fake autograder.toolkit.checks in the worker: no effect",
       "wrong", PATCH_PYTEST),
    _a("c-lie-eq", "objects whose __eq__ is always True (incl. int/tuple/dict subclasses) score 0",
       "wrong", LIE_EQ, scores={"perceptron": 0},
       feedback=(("perceptron", "Unsupported type"),)),
    _a("c-lie-float", "float and np.float64 subclasses that equal anything are not floats",
       "wrong", LIE_FLOAT, scores={"mean_squared_error": 0, "sigmoid_cross_entropy": 0,
                                    "softmax_cross_entropy": 0},
       feedback=(("mean_squared_error", "got Unsupported type LiarFloat"),
                 ("softmax_cross_entropy", "got Unsupported type LiarFloat64"))),
    # np.matrix is NumPy's own subclass: it crosses as a plain array of its raw bytes, so its
    # zeros earn the shape checks' points only (the values are wrong)
    _a("c-lie-ndarray", "ndarray subclasses (own __eq__/__array_ufunc__) are not ndarrays",
       "wrong", LIE_NDARRAY, scores={"sigmoid": 0, "softmax": 0, "neural_network": 6},
       feedback=(("softmax", "got Unsupported type LiarArray"),)),
    _a("c-lie-array-protocol", "objects with __array__/__array_function__/__index__ are not arrays/ints",
       "wrong", LIE_ARRAY_PROTOCOL, scores={"neural_network": 0},
       feedback=(("neural_network", "Unsupported type Fake"),)),
    _a("c-lie-containers", "list/dict subclasses and a tuple where a float is asked score 0",
       "wrong", LIE_CONTAINERS, scores={"softmax": 0, "softmax_cross_entropy": 0,
                                        "mean_squared_error": 0},
       feedback=(("mean_squared_error", "got tuple"),)),
    _a("c-lie-dunders", "__repr__/__str__/__len__ that raise or hang, __del__ that hangs: fail, no hang",
       "wrong", LIE_DUNDERS, scores={"sigmoid_cross_entropy": 0, "softmax_cross_entropy": 0}),
    _a("r-hostile-exceptions", "exceptions whose __str__ raises/hangs or whose type has no __name__",
       "ref", HOSTILE_EXCEPTIONS_TOP, HOSTILE_EXCEPTIONS_HANG_TOP, HOSTILE_EXCEPTIONS_FN,
       scores={"softmax": 0, "softmax_cross_entropy": 0},
       feedback=(("softmax_cross_entropy", "did not return within 1 s"),)),
    Attack("r-exit-top", "os._exit(0), sys.exit(), raise SystemExit, exit() between cells: rest graded",
           (REF_FIRST, OS_EXIT, SYS_EXIT, REF_SECOND, RAISE_SYSTEMEXIT, EXIT_BUILTINS), "ref",
           cells_contain=(("cell 2 stopped the notebook's process (the process running the notebook "
                          "exited with code 0)"),)),
    _a("c-exit-top", "exiting with code 0 at top level is no success signal", "wrong", OS_EXIT),
    _a("r-exit-in-function", "os._exit / sys.exit / SystemExit inside graded functions fail those only",
       "ref", EXIT_IN_FUNCTIONS,
       scores={"perceptron": 12, "mean_squared_error": 0, "softmax": 0},
       feedback=(("mean_squared_error", "`mean_squared_error` raised SystemExit: 0"),
                 ("softmax", "`softmax` raised SystemExit: done"))),
    Attack("r-loop-top", "an infinite loop at top level is interrupted; the next cells run",
           (REF_FIRST, LOOP, REF_SECOND), "ref",
           cells_contain=("cell 2 ran past its time limit and was interrupted",)),
    Attack("r-loop-top-sigint-ignored", "a top-level loop with SIGINT ignored is killed; the rest runs",
           (REF_FIRST, LOOP_SIGINT_IGNORED, REF_SECOND), "ref",
           cells_contain=("cell 2 ran past its time limit and was interrupted",)),
    Attack("r-loop-top-catch-ki", "a top-level loop that swallows KeyboardInterrupt is killed",
           (REF_FIRST, LOOP_CATCH_KI, REF_SECOND), "ref",
           cells_contain=("cell 2 ran past its time limit and was interrupted",)),
    _a("r-loop-function", "an infinite loop in a graded function fails that function's tests only",
       "ref", LOOP_FN, scores={"sigmoid_cross_entropy": 0},
       # "(time limit)" when it stops at the interrupt; "and did not stop when interrupted" when
       # a loaded machine lets the grace period pass first: both name the call's own limit
       feedback=(("sigmoid_cross_entropy", "did not return within 1 s"),)),
    _a("r-loop-function-sigint-ignored", "a function looping with SIGINT ignored: killed, that question 0",
       "ref", LOOP_FN_SIGINT_IGNORED, scores={"softmax_cross_entropy": 0},
       feedback=(("softmax_cross_entropy", "did not stop when interrupted"),)),
    _a("r-loop-function-catch-ki", "a function swallowing KeyboardInterrupt: killed, that question 0",
       "ref", LOOP_FN_CATCH_KI, scores={"softmax_cross_entropy": 0},
       feedback=(("softmax_cross_entropy", "did not stop when interrupted"),)),
    _a("r-membomb-top", "allocating several GiB at top level fails with MemoryError; rest graded",
       "ref", MEMBOMB_TOP, MEMBOMB_TOP_2,
       cells_contain=("cell 2 raised MemoryError", "cell 3 raised MemoryError")),
    _a("r-membomb-function", "a graded function eating memory fails with MemoryError, that question 0",
       "ref", MEMBOMB_FN, scores={"softmax_cross_entropy": 0},
       feedback=(("softmax_cross_entropy", "MemoryError"),)),
    _a("r-userns-tmpfs-bomb", "RAM pinned in a private tmpfs (user namespace + mount) must be impossible",
       "ref", USERNS_TMPFS_BOMB, nobwrap=False),
    _a("r-fork-bomb", "forking/threading until the limit: at most 32 tasks, grading unaffected",
       "ref", FORK_BOMB, nobwrap=False),
    _a("c-naive-fork-bomb", "`while True: os.fork()`: forked copies answering the pipe earn nothing",
       "wrong", NAIVE_FORK_BOMB, at_most_base=True, nobwrap=False),
    _a("r-orphan-daemons", "setsid/start_new_session children (`sleep 1000`) do not survive grading",
       "ref", ORPHANS, nobwrap=False),
    _a("r-background-threads", "threads that keep printing and spinning do not disturb grading",
       "ref", THREADS),
    _a("r-output-flood", "100 MB printed at top level and 1 MB per call: output capped, full marks",
       "ref", OUTPUT_FLOOD, OUTPUT_FLOOD_FN),
    _a("c-read-secrets", "grader, reference, other submissions, out folder: not visible, not usable",
       "wrong", READ_SECRETS, nobwrap=False),
    _a("c-forge-results", "forged results.json/gradebook.csv land nowhere the grader reads",
       "wrong", FORGE_RESULTS, nobwrap=False),
    _a("r-plant-hijack", "numpy.py/sitecustomize.py/.pth planted anywhere hijack nothing",
       "ref", PLANT_HIJACK, PLANT_CHECK, nobwrap=False),
    _a("c-tamper-submissions", "other submissions and grader files cannot be deleted or overwritten",
       "wrong", TAMPER_SUBMISSIONS, nobwrap=False),
    _a("r-network", "no TCP/UDP/DNS/abstract-socket connection to the host or the internet",
       "ref", NETWORK, nobwrap=False),
    _a("c-forged-reply-patch", "the worker's frame writer patched to add pass/score claims: ignored",
       "wrong", FORGED_REPLY_PATCH),
    _a("c-forged-reply-raw", "forged reply frames written to the reply pipe: the worker is killed",
       "wrong", FORGED_REPLY_RAW, cells_contain=("cell 2 stopped the notebook's process",)),
    # The forged frame answers the call; the real reply then sits in the pipe, so the next
    # request sees a stale id and the worker is killed: that costs the attacker the next call
    # (the type test of sigmoid_cross_entropy), never anyone else.
    _a("c-forged-reply-stack", "a function forging its own reply (id from the stack) gains nothing",
       "wrong", FORGED_REPLY_STACK, scores={"sigmoid_cross_entropy": 0},
       feedback=(("mean_squared_error", ""),)),
    Attack("r-close-fds", "closing the protocol fds kills the worker; it restarts, rest graded",
           (REF_FIRST, CLOSE_FDS, REF_SECOND), "ref",
           cells_contain=("cell 2 stopped the notebook's process",)),
    # the reference `xor` uses AND_WEIGHTS, so the nested AND_WEIGHTS also breaks `xor` (3 points)
    _a("r-deep-nested", "values nested 100000 deep fail their own tests only",
       "ref", DEEP_NESTED, scores={"perceptron": 10, "sigmoid_cross_entropy": 0, "softmax": 0},
       feedback=(("sigmoid_cross_entropy", "value nested too deeply"),
                 ("softmax", "nested too deeply"))),
    # (10 MB, not 50: encoding 50 MB took over the 1 s call limit on a loaded machine)
    _a("r-huge-array", "a 10 MB return value fails that function's tests only",
       "ref", HUGE_ARRAY, scores={"mean_squared_error": 0},
       feedback=(("mean_squared_error", "exceeds the 8388608-byte limit"),)),
    _a("r-segfault-top", "a segfault at top level costs that cell only", "ref", SEGFAULT_TOP,
       cells_contain=(("cell 2 stopped the notebook's process (the process running the notebook "
                      "was killed by SIGSEGV)"),)),
    _a("r-segfault-function", "a function that segfaults (ctypes) costs that function's tests only",
       "ref", SEGFAULT_FN, scores={"sigmoid_cross_entropy": 0},
       feedback=(("sigmoid_cross_entropy", "SIGSEGV"),)),
    _a("r-recursion-top", "setrecursionlimit + deep recursion at top level costs that cell only",
       "ref", RECURSION_TOP, cells_contain=("cell 2 stopped the notebook's process",)),
    _a("r-recursion-function", "deep C recursion in a graded function costs that function only",
       "ref", RECURSION_FN, scores={"softmax_cross_entropy": 0}),
    _a("r-privileges", "setuid(0)/setgroups/chroot/mount/sethostname//dev/mem all fail",
       "ref", PRIVILEGES, nobwrap=False),
    _a("r-unshare-userns", "unshare() of user/mount/net namespaces fails inside the sandbox",
       "ref", UNSHARE_USERNS, nobwrap=False),
    Attack("r-kill-parent", "kill(getppid()), kill(-1), kill of every pid: grading goes on",
           (REF_FIRST, KILL_PARENT, REF_SECOND), "ref", nobwrap=False),
    _a("r-rlimit-raise", "raising its own rlimits fails; a 2 GiB allocation still fails",
       "ref", RLIMIT_RAISE, RLIMIT_THEN_ALLOCATE, cells_contain=("cell 3 raised MemoryError",),
       nobwrap=False),
    _a("c-alarm-self", "signal.alarm killing its own worker mid-grading earns nothing",
       "wrong", ALARM_SELF, at_most_base=True),
    Attack("h-honest-magics", "%%time, %matplotlib inline, !ls, %%bash, %pip, plots: graded 100",
           (*HONEST_MAGICS,), "ref"),
]
ATTACKS_BY_ID = {a.sid: a for a in ATTACKS}
assert len(ATTACKS_BY_ID) == len(ATTACKS) >= 30
HONEST = {"h-reference": (REF,), "h-partly-wrong": (PARTLY_WRONG,), "w-wrong": (WRONG,),
          "zz-next-honest": (REF,)}


def write_notebook(path: Path, cells: tuple[str, ...]) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    # attacks name the repository as /work/main; aim them at wherever this checkout lives
    notebook.cells = [nbformat.v4.new_code_cell(source.replace("/work/main", str(REPO)))
                      for source in cells]
    nbformat.write(notebook, str(path))


# --------------------------------------------------------------------------- host-side probes


def _processes() -> list[dict]:
    """Every live (non-zombie) process of the machine: pid, ppid, real uid, name, argv."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("State", "").strip().startswith("Z"):
            continue  # a zombie is dead; a killed sandbox's init waits a moment to be reaped
        found.append({"pid": int(entry), "ppid": int(fields["PPid"].split()[0]),
                      "uid": int(fields["Uid"].split()[0]), "name": fields["Name"].strip(),
                      "argv": [a.decode(errors="replace") for a in argv if a]})
    return found


def _escaped(processes: list[dict]) -> list[dict]:
    """Sandbox-uid processes or `sleep 1000`s that have no bubblewrap process above them.

    Other engineers' sandboxes (uid >= 61000 too) always run under a live ``bwrap``; a process
    that escaped its sandbox has been re-parented away from it.
    """
    by_pid = {p["pid"]: p for p in processes}

    def under_bwrap(proc: dict) -> bool:
        seen = set()
        while proc and proc["pid"] not in seen:
            seen.add(proc["pid"])
            if proc["name"] == "bwrap":
                return True
            proc = by_pid.get(proc["ppid"])
        return False

    return [p for p in processes
            if (p["uid"] >= UID_BASE or p["argv"] == ["sleep", "1000"]) and not under_bwrap(p)]


def lineage(found: list[dict], snapshot: list[dict]) -> str:
    """Each process of ``found`` with its ancestors in ``snapshot`` (uid, argv): what a failed
    assertion about leftover processes must show to be understood."""
    processes = {p["pid"]: p for p in snapshot}
    lines = []
    for proc in found:
        chain, pid = [], proc["pid"]
        while pid in processes and len(chain) < 12:
            p = processes[pid]
            chain.append(f"{p['pid']} uid={p['uid']} {' '.join(map(str, p.get('argv', [])))[:120]}")
            pid = p["ppid"]
        lines.append(" <- ".join(chain) or f"{proc} (gone)")
    return "\n".join(lines)


def _descendants(processes: list[dict], root: int) -> list[dict]:
    children: dict[int, list[dict]] = {}
    for proc in processes:
        children.setdefault(proc["ppid"], []).append(proc)
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child["pid"])
    return out


def _tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _venv_snapshot() -> dict[str, object]:
    site = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / \
        "site-packages"
    return {"entries": sorted(p.name for p in site.iterdir()),
            "pth": {p.name: p.read_text() for p in site.glob("*.pth")},
            "custom": sorted(str(p) for p in site.rglob("*customize.py")),
            "numpy": sorted(p.name for p in site.glob("numpy*.py"))}


@dataclass
class Batch:
    mode: str
    results: dict[str, SubmissionResult]
    submissions: Path
    out: Path
    escaped: list[dict] = field(default_factory=list)
    leftovers: list[dict] = field(default_factory=list)
    lineage: str = ""  # of the leftovers, for the failure message
    venv_before: dict = field(default_factory=dict)
    venv_after: dict = field(default_factory=dict)
    subs_before: dict = field(default_factory=dict)
    subs_after: dict = field(default_factory=dict)
    listener_hits: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _record_to_result(record: dict) -> SubmissionResult:
    return SubmissionResult(**{**record, "tests": tuple(TestOutcome(**t) for t in record["tests"]),
                               "notes": tuple(record["notes"]), "cells": tuple(record["cells"])})


def _bwrap_skip_reason() -> str | None:
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed: the sandbox-mode attacks cannot run here"
    if os.environ.get("AUTOGRADER_NO_BWRAP"):
        return "AUTOGRADER_NO_BWRAP is set in the test environment"
    from autograder.sandbox.launch import bubblewrap_problem
    return bubblewrap_problem()


def run_batch(subs: Path, out: Path, *, no_bwrap: bool,
              cluster: str | None = None) -> tuple[str | None, dict[str, SubmissionResult]]:
    """Grade ``subs`` in a fresh interpreter (``attacks/grade_batch.py``); (warning, records).
    ``cluster``: on that Dask cluster (``local:2``) instead of the local pool.

    A fresh interpreter because (1) the forkserver and ``bubblewrap_problem()`` fix the sandbox
    mode once per process, and (2) loading the graders inside *this* pytest session trips the
    project's ``--strict-markers`` on their ``question`` marker.
    """
    records = out.parent / f"{out.name}-records.json"
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_NO_BWRAP"}
    if no_bwrap:
        env["AUTOGRADER_NO_BWRAP"] = "1"
    done = subprocess.run([PYTHON, str(HERE / "attacks" / "grade_batch.py"), str(subs), str(out),
                           str(records), str(SEED), *([cluster] if cluster else [])], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    payload = json.loads(records.read_text())
    return payload["warning"], {r["student_id"]: _record_to_result(r) for r in payload["results"]}


def _grade_batch(mode: str, root: Path, cluster: str | None = None) -> Batch:
    """Write every attack of ``mode`` plus the honest ones, grade them in ONE batch
    (on the Dask ``cluster`` if one is given, see ``test_dask_attacks``)."""
    subs, out = root / "submissions", root / "out"
    subs.mkdir(parents=True)
    abstract = f"attackdev-{uuid.uuid4().hex}"
    with socket.socket() as listener, socket.socket(socket.AF_UNIX) as unix_listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        unix_listener.bind("\0" + abstract)
        unix_listener.listen(8)
        unix_listener.setblocking(False)
        for sid, cells in HONEST.items():
            write_notebook(subs / f"{sid}.ipynb", cells)
        for attack in ATTACKS:
            if mode == "nobwrap" and not attack.nobwrap:
                continue
            cells = tuple(c.replace("@PORT@", str(listener.getsockname()[1]))
                          .replace("@ABSTRACT@", abstract) for c in attack.cells)
            write_notebook(subs / f"{attack.sid}.ipynb", cells)
        batch = Batch(mode, {}, subs, out, venv_before=_venv_snapshot(),
                      subs_before=_tree_digest(subs))
        # this test process's own sandboxes, from earlier tests in it (a Dask cluster's):
        # not the batch's leftovers
        earlier = {p["pid"] for p in _descendants(_processes(), os.getpid())}
        started = time.monotonic()
        warning, batch.results = run_batch(subs, out, no_bwrap=mode == "nobwrap", cluster=cluster)
        batch.seconds = time.monotonic() - started
        if mode == "bwrap":
            assert warning is None, warning
        else:
            assert warning == "bubblewrap disabled by AUTOGRADER_NO_BWRAP"
        for _ in range(10):  # let the kernel and init reap the killed sandboxes
            time.sleep(0.3)
            processes = _processes()
            batch.escaped = _escaped(processes)
            if not batch.escaped:
                break
        batch.leftovers = [p for p in _descendants(processes, os.getpid())
                           if p["uid"] >= UID_BASE and p["pid"] not in earlier]
        batch.lineage = lineage(batch.leftovers, processes)
        batch.venv_after = _venv_snapshot()
        batch.subs_after = _tree_digest(subs)
        for server, label in ((listener, "tcp 127.0.0.1"), (unix_listener, "abstract unix socket")):
            try:
                server.accept()[0].close()
                batch.listener_hits.append(label)
            except BlockingIOError:
                pass
    return batch


def pool_bwrap_batch(tmp_path_factory: pytest.TempPathFactory, run_once) -> Batch:
    """The bubblewrap-mode batch in the local pool, graded once per test run: this file's
    tests and ``test_dask_attacks`` (its baseline for the Dask batch) read the same record."""
    reason = _bwrap_skip_reason()
    if reason:
        pytest.skip(reason)
    return run_once("attacks-bwrap-pool",
                    lambda: _grade_batch("bwrap", tmp_path_factory.mktemp("attacks-bwrap")))


@pytest.fixture(scope="module")
def bwrap_batch(tmp_path_factory: pytest.TempPathFactory, run_once) -> Batch:
    return pool_bwrap_batch(tmp_path_factory, run_once)


@pytest.fixture(scope="module")
def nobwrap_batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    return _grade_batch("nobwrap", tmp_path_factory.mktemp("attacks-nobwrap"))


@pytest.fixture(params=["bwrap", "nobwrap"])
def batch(request: pytest.FixtureRequest) -> Batch:
    return request.getfixturevalue(f"{request.param}_batch")


# --------------------------------------------------------------------------- helpers


def expected_scores(attack: Attack, batch: Batch) -> dict[str, float]:
    base = dict(QUESTIONS) if attack.base == "ref" else batch.results["w-wrong"].question_scores()
    return {qid: float(v) for qid, v in {**base, **attack.scores}.items()}


def all_text(result: SubmissionResult) -> str:
    return json.dumps(result.to_gradescope(), default=str)


def check_attack(batch: Batch, attack: Attack) -> None:
    result = batch.results[attack.sid]
    scores = result.question_scores()
    want = expected_scores(attack, batch)
    holes = [line for line in (*result.cells, *result.notes) if "HOLE" in line]
    assert not holes, f"{attack.sid}: the attack reports success: {holes}"
    # an attack that only has to earn nothing may also use up its time limit on a loaded
    # machine (a CI run saw the naive fork bomb end as "timeout"): still earns nothing
    allowed = {attack.status, "timeout"} if attack.at_most_base else {attack.status}
    assert result.status in allowed, (result.status, result.message, result.cells)
    if attack.at_most_base:
        above = {q: (scores[q], want[q]) for q in want if scores[q] > want[q]}
        assert not above, f"{attack.sid} earned more than its honest score: {above}"
    else:
        assert scores == want, (
            f"{attack.sid}: {scores} != {want}; failed: "
            + "; ".join(f"{t.name}: {t.feedback}" for t in result.tests if not t.passed)
            + f"; cells: {result.cells}; extra restarts: {result.extra.get('restarts')}")
    for text in attack.cells_contain:
        assert any(text in line for line in result.cells), (text, result.cells)
    for question, text in attack.feedback:
        failed = [t for t in result.tests if t.question == question and not t.passed]
        assert failed and all(text in t.feedback for t in failed), (
            question, text, [t.feedback for t in failed])
    assert not [n for n in result.notes if WEAKENED in n], result.notes  # TA-only
    weakened = [n for n in result.extra.get("sandbox", ()) if WEAKENED in n]
    assert bool(weakened) == (batch.mode == "nobwrap"), result.extra.get("sandbox")
    assert len(all_text(result)) < 200_000  # floods are capped in the record
    for secret in SECRETS:
        assert secret not in all_text(result)


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.sid for a in ATTACKS])
def test_attack(batch: Batch, attack: Attack) -> None:
    """Each hostile submission gets exactly its honest score, status and feedback."""
    if batch.mode == "nobwrap" and not attack.nobwrap:
        pytest.skip("the no-bubblewrap fallback does not defend this attack (see module docstring)")
    check_attack(batch, attack)


def test_baselines(batch: Batch) -> None:
    """The honest submissions of the batch: reference 100, partly wrong 90, WRONG 18."""
    scores = {sid: batch.results[sid].question_scores() for sid in HONEST}
    assert scores["h-reference"] == {q: float(v) for q, v in QUESTIONS.items()}
    assert scores["zz-next-honest"] == {q: float(v) for q, v in QUESTIONS.items()}
    assert scores["h-partly-wrong"] == {q: float(v) for q, v in PARTLY_WRONG_EXPECTED.items()}
    assert scores["w-wrong"] == {q: float(v) for q, v in WRONG_EXPECTED.items()}
    for sid in HONEST:
        assert batch.results[sid].status == "graded"
        assert not batch.results[sid].cells


def test_one_record_per_submission(batch: Batch) -> None:
    """Every submission of the batch has exactly one record, results.json and gradebook row."""
    notebooks = sorted(p.stem for p in batch.submissions.glob("*.ipynb"))
    assert sorted(batch.results) == notebooks
    rows = (batch.out / "gradebook.csv").read_text().splitlines()
    assert rows[0].startswith("student_id,status,score,max_score")
    assert sorted(row.split(",")[0] for row in rows[1:]) == notebooks
    for sid, result in batch.results.items():
        on_disk = json.loads((batch.out / sid / "results.json").read_text())
        assert on_disk["score"] == result.score
        assert on_disk["extra_data"]["student_id"] == sid
        row = next(r for r in rows[1:] if r.split(",")[0] == sid).split(",")
        assert row[1] == result.status and float(row[2]) == result.score


def test_out_folder_has_only_engine_files(bwrap_batch: Batch) -> None:
    """Nothing a submission wrote reached the out folder: each student folder holds only the
    engine's results.json and feedback, the TA logs only the engine's logs, and no file
    anywhere in it carries the forged text."""
    for folder in bwrap_batch.out.iterdir():
        if folder.name == "_ta_logs":
            assert {p.name for p in folder.iterdir()} <= {f"{s}.json" for s in bwrap_batch.results}
        elif folder.is_dir():
            assert folder.name in bwrap_batch.results
            assert sorted(p.name for p in folder.iterdir()) == [
                "feedback.html", "feedback.md", "results.json"]
    for path in bwrap_batch.out.rglob("*"):
        if path.is_file():
            assert b"FORGED" not in path.read_bytes(), path


def test_no_secret_reaches_any_output(bwrap_batch: Batch) -> None:
    """No text of the graders or the reference appears in any results.json or the gradebook."""
    for path in bwrap_batch.out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in SECRETS:
                assert secret.encode() not in data, (path, secret)


def test_no_process_survives(bwrap_batch: Batch) -> None:
    """No sandbox process (uid >= 61000) and no `sleep 1000` outlives grading."""
    assert bwrap_batch.escaped == []
    assert bwrap_batch.leftovers == [], bwrap_batch.lineage


def test_venv_and_submissions_unchanged(bwrap_batch: Batch) -> None:
    """The grader's venv and every submission file are exactly as before grading."""
    assert bwrap_batch.venv_after == bwrap_batch.venv_before
    assert bwrap_batch.subs_after == bwrap_batch.subs_before


def test_network_listeners_untouched(bwrap_batch: Batch) -> None:
    """The host's 127.0.0.1 listener and abstract unix socket saw no connection."""
    assert bwrap_batch.listener_hits == []


def test_nobwrap_every_result_is_flagged(nobwrap_batch: Batch) -> None:
    """With AUTOGRADER_NO_BWRAP every record carries the loud SANDBOX WEAKENED note in its
    TA-only part, never in what the student reads."""
    assert nobwrap_batch.results
    for result in nobwrap_batch.results.values():
        assert any(WEAKENED in note for note in result.extra["sandbox"]), result.student_id
        assert WEAKENED not in all_text(result), result.student_id  # results.json
    assert "bubblewrap disabled" in (nobwrap_batch.out / "run.txt").read_text()


def test_honest_scores_same_alone_and_mixed(bwrap_batch: Batch, tmp_path: Path) -> None:
    """Honest submissions graded among all the attacks get exactly their scores graded alone."""
    subs = tmp_path / "alone"
    subs.mkdir()
    for sid in ("h-reference", "h-partly-wrong", "w-wrong"):
        write_notebook(subs / f"{sid}.ipynb", HONEST[sid])
    warning, alone = run_batch(subs, tmp_path / "out", no_bwrap=False)
    assert warning is None and sorted(alone) == ["h-partly-wrong", "h-reference", "w-wrong"]
    for sid, result in alone.items():
        mixed = bwrap_batch.results[sid]
        assert (mixed.status, mixed.score) == (result.status, result.score)
        assert [(t.name, t.passed, t.feedback) for t in mixed.tests] == \
            [(t.name, t.passed, t.feedback) for t in result.tests]


def test_grader_cwd_is_not_exposed(tmp_path: Path) -> None:
    """A TA grading from a folder that holds the submissions and the out folder (the usual
    `cd grading && python -m autograder grade hw1 submissions --out out`) must not let a
    submission read or copy a classmate's notebook or earlier results."""
    reason = _bwrap_skip_reason()
    if reason:
        pytest.skip(reason)
    # an ordinary folder (mode 0755, as under the usual umask 022; pytest's tmp_path is 0700,
    # which alone would hide it from the sandbox's uid)
    grading = tmp_path / "grading"
    grading.mkdir(mode=0o755)
    grading.chmod(0o755)
    subs = grading / "submissions"
    subs.mkdir(mode=0o755)
    subs.chmod(0o755)
    write_notebook(subs / "a-copycat.ipynb", (WRONG, READ_SECRETS))
    write_notebook(subs / "b-classmate.ipynb", (REF,))
    write_notebook(subs / "w-wrong.ipynb", (WRONG,))
    done = subprocess.run([PYTHON, "-m", "autograder", "grade", "hw1", "submissions", "--out", "out",
                           "--jobs", "2", "--seed", str(SEED), "--quiet", "--cell-timeout", "5",
                           "--call-timeout", "1", "--submission-timeout", "25"],
                          cwd=grading, capture_output=True, text=True, timeout=300, check=False)
    assert (grading / "out" / "gradebook.csv").is_file(), done.stdout[-2000:] + done.stderr[-2000:]
    copycat = json.loads((grading / "out" / "a-copycat" / "results.json").read_text())
    wrong = json.loads((grading / "out" / "w-wrong" / "results.json").read_text())
    assert "HOLE" not in copycat["output"], copycat["output"][:1500]
    assert copycat["extra_data"]["questions"] == wrong["extra_data"]["questions"]
