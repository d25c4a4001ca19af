"""Course policy: syllabus config, gradebook loading, final grades, reports, LMS export.

``python -m course grades --help`` is the entry point; the policy lives in
``course/cose474.toml`` and is loaded by :func:`course.policy_toml.load_policy`.
This package never imports ``autograder``: it reads the gradebook CSV contract only.
"""
