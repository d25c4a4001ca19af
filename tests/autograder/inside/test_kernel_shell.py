"""The worker's shell (``autograder.inside.kernel_shell``): Jupyter's semantics, in the real sandbox.

What the grading environment lacks is skipped with a note, never at the cost of the
statements after it; see also tests/conformance for the comparison with a real kernel.
"""

from __future__ import annotations

import numpy as np

from autograder.grading.cells import cell_report


def test_matplotlib_inline_as_the_first_line_of_the_import_cell(run):
    session = run("%matplotlib inline\n%config InlineBackend.figure_format = 'retina'\n"
                  "import numpy as np\nimport matplotlib.pyplot as plt",
                  "plt.plot([1, 2]); plt.show()\ndef f(x):\n    return np.asarray(x) * 2")
    assert [o.status for o in session.outcomes] == ["ok", "ok"]
    np.testing.assert_array_equal(session.call("f", [1.0]), [2.0])


def test_a_missing_module_is_noted_and_the_rest_of_the_cell_runs(run):
    session = run("import numpy as np\nimport h5py\nfrom lr_utils import load_dataset\n"
                  "def f():\n    return 1.5",
                  "load_dataset()")
    first, second = session.outcomes
    assert first.status == "ok" and session.call("f") == 1.5
    assert any("`h5py` is not installed" in n for n in first.notes)
    assert any("`lr_utils` is not installed" in n for n in first.notes)
    assert (second.status, second.ename) == ("error", "ModuleNotFoundError")
    assert "lr_utils" in second.evalue
    assert "cell 1: module `h5py` is not installed in the grading environment" in " ".join(
        cell_report(session.outcomes))


def test_colab_calls_are_noted_no_ops_and_tqdm_passes_through(run):
    session = run("from google.colab import drive, files\ndrive.mount('/content/drive')\n"
                  "uploaded = files.upload()\nfrom tqdm.auto import tqdm\n"
                  "total = sum(i for i in tqdm(range(4)))\nprint(len(uploaded), total)")
    outcome = session.outcomes[0]
    assert outcome.status == "ok" and outcome.stdout == "0 6\n"
    assert any("google.colab" in n for n in outcome.notes)
    assert any("drive.mount" in n for n in outcome.notes)


def test_imports_in_try_blocks_and_in_libraries_are_left_alone(run):
    session = run("try:\n    import tensorflow\n    backend = 'tensorflow'\nexcept ImportError:\n"
                  "    backend = 'numpy'\nprint(backend)",
                  "%%writefile helper_lib.py\nimport not_a_module_anywhere",
                  "import helper_lib")
    fallback, _, library = session.outcomes
    assert fallback.stdout == "numpy\n" and not fallback.notes
    assert (library.status, library.ename) == ("error", "ModuleNotFoundError")
    assert "not_a_module_anywhere" in library.evalue


def test_shell_escapes_are_skipped_with_a_note(run):
    session = run("!pip install torch\nx = 1\nprint('after', x)",
                  "%pip install h5py\nlisting = !ls\nprint(list(listing))",
                  "%%bash\necho hello",
                  "%tensorflow_version 2.x\nprint('colab magic skipped')")
    assert [o.status for o in session.outcomes] == ["ok"] * 4
    assert [o.stdout for o in session.outcomes] == ["after 1\n", "[]\n", "", "colab magic skipped\n"]
    assert all(o.notes for o in session.outcomes)
    assert "`!pip install torch` was skipped" in session.outcomes[0].notes[0]


def test_timeit_runs_its_statement_once_and_input_fails_at_once(run):
    session = run("counter = []\n%timeit counter.append(1)\nprint(len(counter))",
                  "name = input('name? ')")
    timed, asked = session.outcomes
    assert timed.status == "ok" and timed.stdout.endswith("\n1\n") and "per loop" in timed.stdout
    assert (asked.status, asked.ename) == ("error", "StdinNotImplementedError")


def test_display_and_last_values_are_not_printed_output(run):
    session = run("display({'a': 1})\nprint('printed')\n42")
    assert session.outcomes[0].stdout == "printed\n"


def test_np_matrix_comes_back_as_a_plain_array_of_its_shape(run):
    session = run("import numpy as np\ndef forward():\n    return np.matrix([[0.25], [0.75]])\n"
                  "def masked():\n    return np.ma.masked_array([1.0, 2.0])\n"
                  "def scalar():\n    return np.float32(0.5)")
    value = session.call("forward")
    assert type(value) is np.ndarray and value.shape == (2, 1)
    np.testing.assert_array_equal(value, [[0.25], [0.75]])
    assert type(session.call("masked")) is np.ndarray
    assert float(session.call("scalar")) == 0.5
