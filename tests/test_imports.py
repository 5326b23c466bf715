"""The import structure of b3lake: no cycle, and the boundaries that keep the layers apart.

Next to the lazy-import tests (``tests/lambdas/test_trigger.py``: the trigger loads no boto3,
pyarrow or pandas; ``tests/engines``: no pyspark or sqlframe until asked; ``tests/report``: no
plotly; ``tests/tables``: the registry loads no pyarrow). Imports are read from the source (the
AST), including those inside functions, so a lazy import cannot hide a cycle; imports under
``if TYPE_CHECKING:`` never run and are left out, and so is a package ``__init__`` importing its
own submodules (``storage_for`` loading ``storage.s3`` when asked).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "b3lake"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in node.body:
                for inner in ast.walk(sub):
                    lines.add(getattr(inner, "lineno", -1))
    return lines


def import_graph() -> dict[str, set[str]]:
    """module -> the b3lake modules it imports at run time (anywhere in its source)."""
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        skip = _type_checking_lines(tree)
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                # ``from pkg import sub`` imports the submodule when there is one.
                targets = [
                    f"{module}.{a.name}" if f"{module}.{a.name}" in modules else module
                    for a in node.names
                ]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]  # ``import b3lake.x.y`` of a name in x
                if not target or target == name:
                    continue
                if is_package and target.startswith(name + "."):
                    continue  # a package __init__ loading its own submodules
                graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _reaches(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for w in graph[todo.pop()]:
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def _under(package: str) -> list[str]:
    return [m for m in _modules() if m == package or m.startswith(package + ".")]


def test_the_graph_sees_lazy_imports() -> None:
    graph = import_graph()
    # job.main imports storage_for inside the function: the graph must see it.
    assert "b3lake.storage" in graph["b3lake.jobs.refine.job"]
    assert "b3lake.lambdas.trigger" in graph["b3lake.backends"]


def test_no_import_cycle() -> None:
    cycles = _cycles(import_graph())
    assert not cycles, "import cycles among b3lake's modules:\n" + "\n".join(
        " <-> ".join(c) for c in cycles
    )


def _offenders(source: str, forbidden: str) -> list[str]:
    """Modules under ``source`` that reach a module under ``forbidden`` (directly or not)."""
    graph = import_graph()
    bad = []
    for module in _under(source):
        reached = sorted(m for m in _reaches(graph, module) if m in set(_under(forbidden)))
        if reached:
            bad.append(f"{module} -> {reached[0]}")
    return bad


def test_jobs_do_not_import_the_backends() -> None:
    """The job is a leaf: it is handed its adapters or builds them from the lake's address."""
    assert not _offenders("b3lake.jobs", "b3lake.backends")
    assert not _offenders("b3lake.jobs", "b3lake.pipeline")
    # The refine job reads its arguments, not the settings (the visual job's CLI may).
    for job in ("b3lake.jobs.refine", "b3lake.jobs.glue_refine"):
        assert not _offenders(job, "b3lake.settings"), job


def test_lake_and_events_do_not_import_upward() -> None:
    assert not _offenders("b3lake.lake", "b3lake.jobs")
    assert not _offenders("b3lake.events", "b3lake.lambdas")
    assert not _offenders("b3lake.events", "b3lake.launchers")
    for low in ("b3lake.storage", "b3lake.catalog", "b3lake.tables", "b3lake.lake"):
        assert not _offenders(low, "b3lake.backends"), low
        assert not _offenders(low, "b3lake.pipeline"), low


def test_only_the_backends_read_the_backend_setting() -> None:
    """``settings.backend`` picks the adapters in one place."""
    readers = []
    for name, path in _modules().items():
        if name in {"b3lake.backends", "b3lake.settings"}:
            continue
        if ".backend ==" in path.read_text() or ".backend !=" in path.read_text():
            readers.append(name)
    assert not readers, readers


def test_no_concrete_storage_type_checks() -> None:
    """A Storage capability (``local_path``) says what a store allows, not its class."""
    offenders = [
        name
        for name, path in _modules().items()
        if "is LocalStorage" in path.read_text() or "is not LocalStorage" in path.read_text()
    ]
    assert not offenders, offenders
