"""Sandboxed autograder for the course's notebook assignments."""
