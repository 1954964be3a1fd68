"""The walls of the package: which module may import which.

Read from the source (every import, also those inside functions): the engine
imports torch and the standard library only; nothing in the library imports
the command line; and the import graph of the package has no circle.
"""

import ast
import sys
from pathlib import Path

import skorchless

PACKAGE = Path(skorchless.__file__).parent


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path):
    """Return the absolute names of the modules that ``path`` imports."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # "from . import x" imports the submodule x where there is one
            found.update(f"{base}.{alias.name}" for alias in node.names
                         if _path_of(f"{base}.{alias.name}") is not None)
    return found


def _path_of(module):
    if not module.startswith("skorchless"):
        return None
    relative = Path(*module.split(".")[1:])
    if not relative.parts:
        return PACKAGE / "__init__.py"
    for candidate in (PACKAGE / relative.with_suffix(".py"), PACKAGE / relative / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


GRAPH = {_module_name(path): {m for m in _imports(path) if m.startswith("skorchless")}
         for path in PACKAGE.rglob("*.py")}
EXTERNAL = {_module_name(path): {m.split(".")[0] for m in _imports(path)
                                 if not m.startswith("skorchless")}
            for path in PACKAGE.rglob("*.py")}


def test_the_engine_imports_torch_and_the_standard_library_only():
    engine = {name: imports for name, imports in EXTERNAL.items()
              if name.startswith("skorchless._engine")}
    assert len(engine) >= 9
    for name, imports in engine.items():
        foreign = {m for m in imports if m != "torch" and m not in sys.stdlib_module_names}
        assert not foreign, f"{name} imports {foreign}"
        inner = {m for m in GRAPH[name] if not m.startswith("skorchless._engine")}
        assert not inner, f"{name} imports {inner} from outside the engine"


def test_nothing_in_the_library_imports_the_command_line():
    for name, imports in GRAPH.items():
        if name.startswith(("skorchless._cli", "skorchless.__main__")):
            continue
        assert not {m for m in imports if m.startswith("skorchless._cli")}, name


def test_the_import_graph_has_no_circle():
    # Arrows into the top package are left out: "from . import _params" names
    # it, but depends on the submodule only (the top package imports all).
    graph = {name: {m for m in imports if m in GRAPH and m not in (name, "skorchless")}
             for name, imports in GRAPH.items()}
    visiting, done = set(), set()

    def visit(name, path):
        if name in done:
            return
        assert name not in visiting, " -> ".join([*path, name])
        visiting.add(name)
        for child in sorted(graph[name]):
            visit(child, [*path, name])
        visiting.discard(name)
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
