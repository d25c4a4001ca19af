"""Benchmark: our engine (``grade_all``) against ``otter run`` on the same HW1 notebooks.

    .venv/bin/python benchmarks/bench_grading.py            # N=1000, otter sample 10
    .venv/bin/python benchmarks/bench_grading.py --quick    # N=40, otter sample 4
    .venv/bin/python benchmarks/bench_grading.py --dask 0   # without the Dask run

What it does, in one run:

1. writes N HW1 submissions of mixed quality (the student notebook
   ``assignments/hw1/hw1.ipynb`` with each answer taken from the correct or a
   wrong variant of ``solutions/hw1/make_examples.py``, or left unattempted;
   a few untouched skeletons and truncated files) into a temporary folder;
2. grades all of them with ``autograder.batch.run.grade_all`` (``--jobs``, default
   all cores; ``force=True`` into a fresh folder) while a thread samples the
   resident memory of this process and all its descendants from ``/proc``
   every 100 ms (sum of VmRSS over the tree; peak reported);
3. grades the same notebooks again through the Dask executor on a
   ``LocalCluster`` of ``--dask`` worker processes (``grade_all(cluster="local:N")``,
   the cluster's start included in the wall time), with the same memory sampler;
4. builds an otter-grader autograder from ``solutions/hw1/hw1-master.ipynb``
   (``otter assign`` in a temporary folder; its ``autograder.zip`` holds the
   public tests only) and runs ``otter run -a autograder.zip NOTEBOOK`` on a
   sample of the same notebooks, two at a time, with the same memory sampler:
   half of the sample before step 2 and half after step 3, so a machine whose
   speed drifts during the run (a shared VM does) weighs on both sides alike;
5. prints per-submission figures, the ratios, the machine and its load
   (``os.getloadavg``: the machine may be shared, so only the ratios of variants
   measured in the same run mean much), and writes them to
   ``benchmarks/results/latest.json``.

The per-phase breakdown of one grading process is ``benchmarks/phases.py``.

This is a script, not a test: it takes minutes and its figures depend on the machine.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import importlib.util
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any, Self

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.batch.run import default_jobs, grade_all  # (after the sys.path line)
from autograder.sandbox.launch import bubblewrap_problem

MAKE_EXAMPLES = ROOT / "solutions" / "hw1" / "make_examples.py"
RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
OTTER = Path(sys.executable).with_name("otter")


def load_examples() -> ModuleType:
    """``solutions/hw1/make_examples.py`` as a module (a script, not a package)."""
    spec = importlib.util.spec_from_file_location("hw1_make_examples", MAKE_EXAMPLES)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_submissions(examples: ModuleType, n: int, folder: Path, seed: int) -> Counter[str]:
    """N notebooks ``sNNNNN.ipynb``; each answer correct, wrong, or missing; some broken."""

    rng = random.Random(seed)
    wrong = {name: [v[name] for v in (examples.PARTLY_WRONG, examples.BLACKBOARD_LATEST)
                    if v[name] != examples.CORRECT[name]] for name in examples.CORRECT}
    kinds: Counter[str] = Counter()
    folder.mkdir(parents=True)
    skeleton = examples.STUDENT.read_text()
    for i in range(n):
        path = folder / f"s{i:05d}.ipynb"
        roll = rng.random()
        if roll < 0.02:
            path.write_text(skeleton[: rng.randrange(500, 3000)])  # cut off mid-JSON
            kinds["truncated"] += 1
            continue
        if roll < 0.05:
            path.write_text(skeleton)
            kinds["skeleton"] += 1
            continue
        skill = rng.random()  # each student's chance of getting an answer right
        answers = {}
        for name, correct in examples.CORRECT.items():
            pick = rng.random()
            if pick < skill or not wrong[name] and pick < 0.9:
                answers[name] = correct
            elif pick < 0.9 and wrong[name]:
                answers[name] = rng.choice(wrong[name])
        # json, not nbformat.write: its schema validation made writing 10,000 take minutes
        path.write_text(json.dumps(examples.filled(answers), sort_keys=True, indent=1,
                                   ensure_ascii=False) + "\n")
        kinds["filled"] += 1
    return kinds


PAGE = os.sysconf("SC_PAGE_SIZE")


class TreeMemory:
    """Peak of the summed VmRSS of a process and all its descendants, sampled from /proc.

    Every 0.1 s, reading one line per process: the sampler itself must cost little,
    it runs beside what it measures (reading every ``status`` file every 50 ms took
    about a tenth of a core).
    """

    def __init__(self, root_pid: int, interval: float = 0.1) -> None:
        self.root_pid = root_pid
        self.interval = interval
        self.peak_bytes = 0
        self.peak_processes = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            total, count = self.sample()
            self.samples += 1
            if total > self.peak_bytes:
                self.peak_bytes, self.peak_processes = total, count
            self._stop.wait(self.interval)

    def sample(self) -> tuple[int, int]:
        """One pass over ``/proc/PID/stat`` (one line each: parent and resident pages)."""
        children: dict[int, list[int]] = {}
        rss: dict[int, int] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
            except (OSError, IndexError):  # exited meanwhile
                continue
            pid = int(entry.name)
            children.setdefault(int(fields[1]), []).append(pid)  # field 4: ppid
            rss[pid] = int(fields[21]) * PAGE  # field 24: rss, in pages (VmRSS)
        total, count, stack = 0, 0, [self.root_pid]
        while stack:
            pid = stack.pop()
            total += rss.get(pid, 0)
            count += 1
            stack.extend(children.get(pid, ()))
        return total, count


def grade_ours(submissions: Path, out: Path, jobs: int, seed: int,
               cluster: str | None = None) -> dict[str, Any]:
    with TreeMemory(os.getpid()) as memory:
        started = time.monotonic()
        outcome = grade_all("hw1", submissions, out, jobs=jobs, seed=seed, force=True,
                            cluster=cluster)
        wall = time.monotonic() - started
    seconds = [r.seconds for r in outcome.results]
    graded = [r.seconds for r in outcome.results if r.status == "graded"]
    return {
        "n": len(outcome.results), "jobs": jobs, "cluster": cluster, "batch_wall_s": wall,
        "wall_per_submission_s": wall / len(outcome.results),
        "median_submission_s": statistics.median(seconds),
        "median_graded_submission_s": statistics.median(graded) if graded else None,
        "p90_submission_s": statistics.quantiles(seconds, n=10)[-1] if len(seconds) > 1 else None,
        "statuses": dict(Counter(r.status for r in outcome.results)),
        "mean_score": statistics.fmean(r.score for r in outcome.results),
        "peak_rss_tree_mb": memory.peak_bytes / 2**20,
        "peak_rss_processes": memory.peak_processes, "memory_samples": memory.samples,
        "sandbox": outcome.warning or "bubblewrap",
        "scores": {r.student_id: r.score for r in outcome.results},
    }


def build_otter(workdir: Path, assignment: str = "hw1") -> Path:
    """``otter assign`` on a copy of ``assignment``'s master with the autograder zip enabled
    (its data file, ``digits.npz``, copied beside it as ours has it)."""
    master = json.loads((ROOT / "solutions" / assignment / f"{assignment}-master.ipynb")
                        .read_text())
    config = master["cells"][0]
    text = "".join(config["source"])
    assert text.startswith("# ASSIGNMENT CONFIG"), "the master's first cell is not its config"
    text = text.replace("generate: false", "generate:\n    pdf: false")
    text += "\nfiles:\n    - digits.npz\n"  # the data the notebook loads, as ours has
    config["source"] = text
    for cell in master["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    src = workdir / "src"
    src.mkdir(parents=True)
    (src / f"{assignment}.ipynb").write_text(json.dumps(master))
    shutil.copy(ROOT / "assignments" / assignment / "digits.npz", src / "digits.npz")
    subprocess.run([str(OTTER), "assign", "--no-run-tests", "--no-pdfs", f"{assignment}.ipynb",
                    str(workdir / "dist")], cwd=src, check=True, capture_output=True)
    zips = sorted((workdir / "dist" / "autograder").glob("*.zip"))
    assert zips, "otter assign wrote no autograder zip"
    return zips[-1]


def run_otter_one(autograder: Path, notebook: Path, workdir: Path) -> dict[str, Any]:
    out = workdir / notebook.stem
    out.mkdir(parents=True)
    started = time.monotonic()
    done = subprocess.run([str(OTTER), "run", "--no-logo", "-a", str(autograder), "-o", str(out),
                           str(notebook)], capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    score = None
    if (out / "results.json").is_file():
        tests = json.loads((out / "results.json").read_text()).get("tests", [])
        score = sum(t.get("score") or 0.0 for t in tests)
    return {"student_id": notebook.stem, "wall_s": wall, "returncode": done.returncode,
            "score": score}


def grade_otter(notebooks: list[Path], autograder: Path, workdir: Path,
                parallel: int = 2) -> dict[str, Any]:
    """``otter run`` on ``notebooks``, ``parallel`` at a time; wall time and peak memory."""
    with TreeMemory(os.getpid()) as memory:
        started = time.monotonic()
        with cf.ThreadPoolExecutor(parallel) as pool:
            runs = list(pool.map(lambda nb: run_otter_one(autograder, nb, workdir), notebooks))
        wall = time.monotonic() - started
    return {"runs": runs, "wall_s": wall, "peak_rss_bytes": memory.peak_bytes,
            "parallel": parallel}


def combine_otter(batches: list[dict[str, Any]]) -> dict[str, Any]:
    """The otter figures of the whole sample, graded in ``batches`` (one before ours, one
    after: the machine's drift during the run then weighs on both sides alike)."""
    runs = [run for batch in batches for run in batch["runs"]]
    wall = sum(batch["wall_s"] for batch in batches)
    walls = [r["wall_s"] for r in runs]
    return {
        "sample": len(runs), "parallel": batches[0]["parallel"], "total_wall_s": wall,
        "median_wall_per_notebook_s": statistics.median(walls),
        "effective_wall_per_notebook_s": wall / len(runs),
        "effective_per_batch_s": [batch["wall_s"] / len(batch["runs"]) for batch in batches],
        "failed_runs": sum(r["returncode"] != 0 for r in runs),
        "peak_rss_tree_mb": max(batch["peak_rss_bytes"] for batch in batches) / 2**20,
        "runs": runs,
    }


def machine() -> dict[str, Any]:
    model = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"nproc": os.cpu_count(), "usable_cpus": len(os.sched_getaffinity(0)),
            "loadavg_at_end": os.getloadavg(), "checkout": str(ROOT),
            "cpu_model": model, "python": sys.version.split()[0],
            "platform": platform.platform(), "sandbox": bubblewrap_problem() or "bubblewrap",
            "memory_total_mb": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20}


def report(figures: dict[str, Any]) -> str:
    ours, otter, m = figures["ours"], figures["otter"], figures["machine"]
    ratio = otter["effective_wall_per_notebook_s"] / ours["wall_per_submission_s"]
    median_ratio = otter["median_wall_per_notebook_s"] / ours["median_submission_s"]
    figures["ratio_effective"] = ratio
    figures["ratio_median"] = median_ratio
    sample_ids = [r["student_id"] for r in otter["runs"]]
    return "\n".join([
        (f"machine: {m['nproc']} CPUs ({m['usable_cpus']} usable), {m['cpu_model']}, "
        f"Python {m['python']}, {m['platform']}, {m['memory_total_mb']} MiB RAM, "
        f"sandbox {m['sandbox']}"),
        f"submissions: {ours['n']} HW1 notebooks {figures['kinds']}",
        "",
        (f"ours  (grade_all, --jobs {ours['jobs']}): batch wall {ours['batch_wall_s']:.1f} s "
        f"for {ours['n']} -> {ours['wall_per_submission_s'] * 1000:.0f} ms per submission"),
        (f"      median per-submission `seconds` {ours['median_submission_s'] * 1000:.0f} ms "
        f"(graded only {ours['median_graded_submission_s'] * 1000:.0f} ms, "
        f"p90 {ours['p90_submission_s'] * 1000:.0f} ms); statuses {ours['statuses']}"),
        (f"      peak RSS of the process tree {ours['peak_rss_tree_mb']:.0f} MiB "
        f"({ours['peak_rss_processes']} processes at the peak; /proc sampled every 100 ms)"),
        *(_dask_lines(figures["dask"], ours) if figures.get("dask") else []),
        (f"otter (otter run, {otter['sample']} of the same notebooks, {otter['parallel']} at a "
        f"time): median wall {otter['median_wall_per_notebook_s']:.2f} s per notebook, "
        f"effective {otter['effective_wall_per_notebook_s']:.2f} s per notebook "
        f"(total {otter['total_wall_s']:.1f} s, {otter['failed_runs']} failed runs; "
        "effective per half, before ours / after: "
        f"{' / '.join(f'{x:.2f} s' for x in otter['effective_per_batch_s'])})"),
        f"      peak RSS of the process tree {otter['peak_rss_tree_mb']:.0f} MiB",
        (f"      scores on the sample: otter (public tests) mean "
        f"{_mean([r['score'] for r in otter['runs']]):.1f}, ours (hidden tests) mean "
        f"{_mean([ours['scores'][s] for s in sample_ids]):.1f}"),
        "",
        (f"ratio: otter effective / ours wall per submission = {ratio:.1f}x; "
        f"median otter notebook / median ours submission = {median_ratio:.1f}x"),
        (f"load average (1/5/15 min) at the end: "
         f"{' '.join(f'{x:.2f}' for x in m['loadavg_at_end'])}; checkout {m['checkout']}"),
    ])


def _dask_lines(dask: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    same = sum(dask["scores"][s] == ours["scores"][s] for s in ours["scores"])
    return [
        (f"dask  (grade_all --cluster {dask['cluster']}, the cluster's start included): batch "
         f"wall {dask['batch_wall_s']:.1f} s -> {dask['wall_per_submission_s'] * 1000:.0f} ms "
         f"per submission ({dask['wall_per_submission_s'] / ours['wall_per_submission_s']:.2f}x "
         f"the pool's); median `seconds` {dask['median_submission_s'] * 1000:.0f} ms"),
        (f"      peak RSS of the process tree {dask['peak_rss_tree_mb']:.0f} MiB; "
         f"same score as the pool for {same} of {len(ours['scores'])}"),
    ]


def _mean(values: list[float | None]) -> float:
    present = [v for v in values if v is not None]
    return statistics.fmean(present) if present else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="submissions to generate and grade")
    parser.add_argument("--otter-sample", type=int, default=10,
                        help="how many of them otter runs (two at a time)")
    parser.add_argument("--jobs", type=int, default=default_jobs(), help="our parallel graders")
    parser.add_argument("--dask", type=int, default=2, metavar="N",
                        help="also grade on a LocalCluster of N workers (0: skip)")
    parser.add_argument("--quick", action="store_true", help="n=40, otter sample 4")
    parser.add_argument("--seed", type=int, default=2024, help="seed of the generated mix")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.otter_sample = 40, 4
    if args.otter_sample < 1 or args.n < 2:
        parser.error("the comparison needs --n 2 or more and --otter-sample 1 or more")
    workdir = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        kinds = make_submissions(load_examples(), args.n, workdir / "submissions", args.seed)
        print(f"generated {args.n} submissions in {workdir / 'submissions'}", flush=True)
        sample = random.Random(args.seed).sample(
            sorted((workdir / "submissions").glob("*.ipynb")), min(args.otter_sample, args.n))
        halves = [sample[: len(sample) // 2], sample[len(sample) // 2:]]
        autograder = build_otter(workdir / "otter" / "assign")
        batches = []
        if halves[0]:
            print(f"otter on {len(halves[0])} (half of its sample, before ours)", flush=True)
            batches.append(grade_otter(halves[0], autograder, workdir / "otter" / "runs"))
        ours = grade_ours(workdir / "submissions", workdir / "ours", args.jobs, args.seed)
        print(f"ours: {ours['batch_wall_s']:.1f} s", flush=True)
        dask = None
        if args.dask:
            dask = grade_ours(workdir / "submissions", workdir / "dask", args.jobs, args.seed,
                              cluster=f"local:{args.dask}")
            print(f"dask: {dask['batch_wall_s']:.1f} s", flush=True)
        print(f"otter on {len(halves[1])} (the other half, after ours)", flush=True)
        batches.append(grade_otter(halves[1], autograder, workdir / "otter" / "runs"))
        otter = combine_otter(batches)
        figures = {"argv": sys.argv, "kinds": dict(kinds), "machine": machine(),
                   "ours": ours, "dask": dask, "otter": otter}
        write_figures(RESULTS, figures, report(figures))
    finally:
        drop(workdir, args.keep)
    return 0


def write_figures(results: Path, figures: dict[str, Any], text: str) -> None:
    """Print a benchmark's report and write it with its figures to ``results`` (JSON)."""
    print("\n" + text)
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps({**figures, "report": text}, indent=2) + "\n")
    print(f"\nwritten: {results.relative_to(ROOT)}")


def drop(workdir: Path, keep: bool) -> None:
    """A benchmark's temporary folder: removed, or kept (``--keep``) and named."""
    if keep:
        print(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
