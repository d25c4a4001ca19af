"""The trusted side of the sandbox: start it, confine it, talk to it, end it.

- ``launch.py``: limits (``Limits``) and the command lines (bubblewrap, prlimit,
  setpriv), which folders are bound (``inside/`` at ``/opt/autograder``);
- ``confine.py``: the seccomp filter and the cgroups;
- ``fallback.py``: without bubblewrap, how submissions are still kept apart;
- ``channel.py``: length-capped frames to and from the worker;
- ``box.py``: ``Sandbox``, one confined zygote that forks one worker per submission;
- ``worker_handle.py``: ``Worker``, requests to one forked worker with deadlines;
- ``warm.py``: the one warm sandbox a grading process keeps.

May import: ``inside.protocol`` (the wire format) and the standard library.
"""
