"""The reference half of the build: ``solutions/NAME/reference.py`` from the master notebook.

``solutions/build.py`` (the command, which also makes the student notebook with Otter
Assign) loads this file by path and uses its ``BuildError`` for every build error.  The
reference module is the code cells inside the master's ``# BEGIN SOLUTION`` blocks with
Otter's markers, prompt strings and ignored lines removed (``build.py``'s docstring says how
the master is written), and it may only define functions and constants: exactly the
manifest's ``reference_names``.
"""

from __future__ import annotations

import ast
import pathlib
import re


class BuildError(Exception):
    """The master notebook cannot be turned into valid assignment files."""


_BLOCK_RE = re.compile(r"#\s+(begin|end)\s+(question|solution|tests|prompt)\b", re.IGNORECASE)
_SOLUTION_SUFFIX_RE = re.compile(r"\s*#\s?SOLUTION( NO PROMPT)?$")


def solution_view(source: str) -> list[str]:
    """The solution lines of a master code cell, with Otter's markers and prompts removed."""
    lines, in_prompt, in_ignore = [], False, False
    for line in source.splitlines():
        s = line.rstrip()
        if in_prompt:
            in_prompt = not s.endswith("# END PROMPT")
            continue
        if in_ignore:
            in_ignore = not s.endswith("# END IGNORE")
            continue
        if s.endswith("# BEGIN PROMPT"):
            in_prompt = True
            continue
        if re.match(r"\s*#\s*BEGIN\s*IGNORE", s, re.IGNORECASE):
            in_ignore = True
            continue
        if re.fullmatch(r"\s*# (BEGIN SOLUTION( NO PROMPT)?|END SOLUTION)", s):
            continue
        if s.endswith(("# IGNORE", "# END PROMPT")):
            continue
        if s.endswith("# SEED"):
            s = s[: -len("# SEED")].rstrip()
        lines.append(_SOLUTION_SUFFIX_RE.sub("", s))
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    return lines


def solution_cells(master_nb) -> list[str]:
    """Sources of the code cells inside ``# BEGIN SOLUTION`` blocks, in notebook order."""
    stack: list[str] = []
    found = []
    for cell in master_nb.cells:
        first = cell.source.lstrip().splitlines()[0] if cell.source.strip() else ""
        m = _BLOCK_RE.match(first) if cell.cell_type == "raw" else None
        if m:
            kind, block = m.group(1).lower(), m.group(2).lower()
            if kind == "begin":
                stack.append(block)
            elif not stack or stack.pop() != block:
                raise BuildError(f"unbalanced '# END {block.upper()}' cell in the master notebook")
            continue
        if cell.cell_type == "code" and stack and stack[-1] == "solution":
            found.append(cell.source)
    if stack:
        raise BuildError(f"unclosed '# BEGIN {stack[-1].upper()}' block in the master notebook")
    return found


def generate_reference(
    master: pathlib.Path, name: str, rel_master: str, expected: tuple[str, ...] | None = None
) -> str:
    """Text of ``reference.py``: the master's solution code as a plain module.

    ``expected``: the names it must define, exactly (the manifest's ``reference_names``).
    """
    import nbformat

    nb = nbformat.read(master, as_version=4)
    cells = solution_cells(nb)
    if not cells:
        raise BuildError(f"{rel_master} has no code cells in '# BEGIN SOLUTION' blocks")
    header = [
        f"# GENERATED FILE - DO NOT EDIT. Reference solution of {name}, generated from",
        f"# {rel_master} by:",
        f"#     python solutions/build.py {name}",
        f"# (python solutions/build.py --check {name} fails when this file is stale.)",
        "# Instructor-only: never copy this file into assignments/.",
        f'"""Reference solution of {name} (generated from the master notebook)."""',
        "",
        "import numpy as np",
    ]
    if expected:
        header += ["", "__all__ = ["] + [f'    "{n}",' for n in sorted(expected)] + ["]"]
    body = []
    for source in cells:
        lines = solution_view(source)
        lines = [ln for ln in lines if ln.strip() != "import numpy as np"]
        if lines:
            body += ["", ""] + lines
    text = "\n".join(header + body) + "\n"
    text = re.sub(r"\n{4,}", "\n\n\n", text)
    validate_reference(text, name, expected)
    return text


def validate_reference(text: str, name: str, expected: tuple[str, ...] | None) -> None:
    try:
        tree = ast.parse(text)
    except SyntaxError as e:
        raise BuildError(f"{name}: generated reference.py does not parse: {e}") from e
    defined, modules = set(), set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        defined.add(n.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            pass  # docstring
        else:
            raise BuildError(
                f"{name}: solution cells may only define functions and constants; found a "
                f"top-level {type(node).__name__} at line {node.lineno} of reference.py"
            )
    public = {n for n in defined if not n.startswith("_")}
    if expected is not None and public != set(expected):
        missing, extra = set(expected) - public, public - set(expected)
        raise BuildError(
            f"{name}: reference.py must define exactly {sorted(expected)}; "
            f"missing {sorted(missing)}, unexpected {sorted(extra)}"
        )
