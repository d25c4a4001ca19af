"""The student's own command: ``python -m autograder check NOTEBOOK`` and its warm server.

- ``check.py``: the public checks run on one notebook, in the student's process;
- ``check_server.py`` and ``check_warm.py``: a warm server that answers repeated checks.

May import: ``grading`` (session and catalog), ``intake.notebook``, ``inside.kernel_shell``.
"""
