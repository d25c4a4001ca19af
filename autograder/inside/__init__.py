"""What runs inside the sandbox: the only engine code a student's notebook shares a process with.

This folder is bound read-only, as a folder, at ``/opt/autograder`` in every sandbox
(``sandbox.launch.INSIDE_DIR``), and ``worker.py`` is started there by path: its
files import one another by plain name (``import protocol``), never the package.

- ``worker.py``: the zygote (warm-up, one fork and one fresh world per submission,
  cleanup); ``worker_serve.py``: what a forked worker answers (run a cell, call a
  function, fetch a value);
- ``kernel_shell.py``: the IPython shell the cells run in (as Jupyter's kernel
  would), with ``lazy_ticks.py`` and ``transform_cache.py`` to make it cheap;
- ``isolate.py``: each worker's own mount, IPC and user namespaces;
- ``protocol.py``: the wire format, the one file the trusted side shares with it.

May import: the standard library, numpy, IPython, matplotlib and each other.
Nothing here may import the trusted side, and nothing here is trusted by it.
"""
