"""Habits of real students' notebooks (round 3) that Jupyter runs and grading must too.

Each case was a wrong grade: a late import of a missing module replaced a correct
function, a leftover ``breakpoint()`` failed every call, ``pbar.set_postfix`` failed a
correct ``train``, the d2l data cell could not write to ``../data``, ``exit()`` raised an
internal-looking error. See docs/jupyter-differences.md.
"""

from __future__ import annotations

SIGMOID = "import numpy as np\ndef sigmoid(x):\n    return 1 / (1 + np.exp(-x))"


def test_a_late_import_of_a_missing_module_never_replaces_the_students_function(run):
    """The *Deep Learning from Scratch* pattern: answers first, then the book's import.
    In Jupyter the import raises first and nothing is rebound."""
    session = run(SIGMOID,
                  "from common.functions import sigmoid, softmax\nprint('not reached')",
                  "import numpy as np\nimport numpy.linalg as sigmoid_alias\nprint('ok')")
    assert session.call("sigmoid", 0.0) == 0.5
    late = session.outcomes[1]
    assert (late.status, late.ename) == ("error", "ModuleNotFoundError")
    assert "common" in late.evalue and "not reached" not in late.output
    assert session.outcomes[2].status == "ok"


def test_a_stand_in_may_replace_a_stand_in_and_fresh_names_still_get_one(run):
    session = run("import h5py\nimport h5py\nfrom lr_utils import load_dataset\n"
                  "from lr_utils import load_dataset\nx = 1",
                  "import scipy_not_here as np_missing\nprint('runs on')")
    assert [o.status for o in session.outcomes] == ["ok", "ok"]
    assert session.outcomes[1].stdout == "runs on\n"


def test_a_leftover_breakpoint_does_nothing_as_with_no_debugger_attached(run):
    session = run("def f(x):\n    breakpoint()\n    return x + 1\nprint(f(1))")
    outcome = session.outcomes[0]
    assert (outcome.status, outcome.stdout) == ("ok", "2\n")
    assert session.call("f", 2) == 3


def test_exit_and_quit_run_on_as_in_jupyter_with_a_plain_note(run):
    session = run("x = 41", "print('a')\nexit()\nprint('b')", "quit()",
                  "exit(keep_kernel=True)", "print(x + 1)")
    assert [o.status for o in session.outcomes] == ["ok"] * 5
    assert session.outcomes[1].stdout == "a\nb\n" and session.outcomes[4].stdout == "42\n"
    note = " ".join(session.outcomes[1].notes)
    assert "exit()" in note and "GradingShell" not in note and "ask_exit" not in note


def test_the_d2l_data_cell_writes_next_to_the_working_folder(run):
    session = run("import os\nos.makedirs(os.path.join('..', 'data'), exist_ok=True)\n"
                  "data_file = os.path.join('..', 'data', 'house_tiny.csv')\n"
                  "with open(data_file, 'w') as f:\n    f.write('NumRooms,Alley,Price\\n')\n"
                  "    f.write('NA,Pave,127500\\n')",
                  "print(open(os.path.join('..', 'data', 'house_tiny.csv')).read().count(','))")
    assert [o.status for o in session.outcomes] == ["ok", "ok"], session.outcomes[0].evalue
    assert session.outcomes[1].stdout == "4\n"


def test_tqdm_progress_bars_work_as_objects(run):
    session = run("from tqdm import tqdm, trange\nfrom tqdm.auto import tqdm as auto_tqdm\n"
                  "from tqdm.notebook import tqdm as nb_tqdm\n"
                  "def train(n):\n    pbar = tqdm(range(n), desc='epochs')\n    total = 0\n"
                  "    for i in pbar:\n        total += i\n"
                  "        pbar.set_postfix(loss=1.0 / (i + 1))\n"
                  "        pbar.set_description(f'epoch {i}')\n    pbar.close()\n"
                  "    with tqdm(total=n) as p:\n        for _ in range(n):\n"
                  "            p.update(1)\n    for _ in trange(2, leave=False):\n        total += 1\n"
                  "    for _ in auto_tqdm(range(2)):\n        total += 1\n"
                  "    tqdm.write('done')\n    return total",
                  "print(train(4))")
    assert [o.status for o in session.outcomes] == ["ok", "ok"], session.outcomes[1].evalue
    assert session.outcomes[1].stdout == "done\n10\n"
    assert session.call("train", 3) == 7


def test_what_a_notebook_writes_next_to_the_working_folder_is_gone_for_the_next(run):
    first = run("import os\nos.makedirs('../data')\nopen('../data/answers', 'w').write('x')")
    assert first.outcomes[0].status == "ok"
    first.close()
    later = run("import os\nprint(os.path.exists('../data/answers'), 'data' in os.listdir('..'))")
    assert later.outcomes[0].stdout == "False False\n"  # '..': bubblewrap's /home, else /tmp


def test_colab_chdir_and_missing_extensions_are_skipped_with_a_note(run):
    """Colab's folder cell and ``%load_ext tensorboard`` in the import cell: the imports
    after them still run (in Colab they did)."""
    session = run("from google.colab import drive\ndrive.mount('/content/drive')\nimport os\n"
                  "os.chdir('/content/drive/MyDrive/COSE474/hw1')\nimport numpy as np",
                  "%load_ext tensorboard\n%load_ext autoreload\n%autoreload 2\nx = np.ones(2)",
                  "os.chdir('/no/such/folder')",
                  "os.makedirs('sub', exist_ok=True)\nos.chdir('sub')\nprint(os.path.basename("
                  "os.getcwd()))")
    first, second, third, fourth = session.outcomes
    assert (first.status, second.status) == ("ok", "ok")
    assert any("os.chdir('/content/drive/MyDrive/COSE474/hw1')" in n for n in first.notes)
    assert any("%load_ext tensorboard" in n for n in second.notes) and len(second.notes) == 1
    assert (third.status, third.ename) == ("error", "FileNotFoundError") and not third.notes
    assert (fourth.status, fourth.stdout) == ("ok", "sub\n")
