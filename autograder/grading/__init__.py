"""One submission graded: the student's session in the sandbox, the graders' pytest run.

- ``grade.py``: ``grade_submission``, one submission in, one ``SubmissionResult`` out;
- ``session.py``: ``StudentSession``, the notebook's cells run in a sandboxed worker,
  and calls to its functions; ``replies.py``: the worker's replies decoded;
- ``grader_session.py`` and ``pytest_plugin.py``: the hidden graders' pytest session
  (``grading.ini`` its settings), collecting one outcome per test;
- ``catalog.py`` and ``manifest.py``: an assignment (``solutions/NAME/``) and its
  ``assignment.toml``; ``versions.py``: which engine code its grades depend on.

May import: ``toolkit``, ``sandbox``, ``intake``, ``gradebook.results``, ``inside.protocol``.
"""
