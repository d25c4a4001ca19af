"""What graders import: the hidden tests' checks and case helpers.

``solutions/NAME/graders.py`` imports ``autograder.toolkit.checks`` (assertions on
values the worker sent back) and ``autograder.toolkit.cases`` (inputs and expected
values); nothing else of the engine. Only the definitions a grader uses count
in its assignment's version (``grading.versions``).

May import: ``errors`` and ``inside.protocol``.
"""
