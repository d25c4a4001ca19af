"""Where scores are kept and what is made of them: the TA's records and the exports.

- ``results.py``: ``SubmissionResult`` and the statuses, Gradescope ``results.json``,
  ``gradebook.csv``; ``safetext.py``: student text made safe to show;
- ``store.py``: the SQLite gradebook; ``ledger.py``: overrides and history;
- ``lateness.py``: deadlines, extensions, late days;
- ``feedback.py``: what the student reads; ``summary.py``: the terminal's table;
- ``lms.py``: the Blackboard Grade Center upload.

May import: ``errors``, ``intake`` (the ``Submission`` record) and ``course.gradecenter``.
"""
