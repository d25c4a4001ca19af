"""Where submissions enter: folders, zips and Blackboard downloads into one ``Submission`` each.

- ``find.py``: ``find_submissions``, the entry point; plain notebooks, folders, zips;
- ``attempts.py``: Blackboard's attempts and receipts, a step ``find`` calls;
- ``blackboard.py``: Blackboard's file names and receipt format;
- ``unzip.py``: safe extraction; ``ids.py``: student ids from names;
- ``submission.py``: the ``Submission`` record; ``notebook.py``: reading notebooks.

May import: ``errors`` and the standard library (nbformat for notebooks).
"""
