"""Many submissions: the local pool (``run.py``, ``grade_all``) and the Dask executor.

The unit of work is ``grading.grade.grade_submission``; results go to the gradebook.
May import: ``grading``, ``gradebook``, ``intake``, ``sandbox``.
"""
