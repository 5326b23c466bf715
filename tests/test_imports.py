"""The import structure of b3lake: every import statement read, no cycle, the declared layering.

Every ``import`` and ``from … import`` of ``src/b3lake`` is read from the source (the AST): at
module level, inside functions and methods, and under ``if TYPE_CHECKING:``. A type-only import
never runs, but it still says that one module needs the other, so it counts like any other; a
lazy import inside a function cannot hide a cycle either. The one exception is a package
``__init__`` importing its own submodules (``storage_for`` loading ``storage.s3`` when asked, a
source package exposing its parsers lazily): the package is its submodules' front door. Heavy
third-party libraries imported inside functions are not b3lake modules and are not in the graph
(the lazy-import tests keep them out of the light modules: ``tests/lambdas/test_trigger.py``,
``tests/engines``, ``tests/report``, ``tests/tables``).

The layering is the one line of docs/architecture.md that starts with ``**Layers**``:
``errors/column/awsclients < tables < … < cli``. Each entry names a package or module under
``b3lake`` (a module belongs to the longest entry that contains it), ``/`` separates the entries of
one layer, and a module imports only from its own layer and the layers to its left. Within a
layer any direction is allowed, and the cycle test still forbids cycles there.
"""

from __future__ import annotations

import ast
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = SRC / "b3lake"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
LAYERS_LINE = re.compile(r"^\*\*Layers\*\*.*?`([^`]*<[^`]*)`")


@dataclass(frozen=True)
class Import:
    """One import statement's target: ``module`` (src-relative ``path``, ``line``) imports
    ``target``; ``name`` is the name taken from it when it is not a submodule (``from a import
    name``), None otherwise; ``type_only`` when the statement is under ``if TYPE_CHECKING:``."""

    module: str
    path: str
    line: int
    target: str
    name: str | None
    type_only: bool = False

    def where(self) -> str:
        return f"{self.module} ({self.path}:{self.line})"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def statements(module: str, source: str, known: set[str], is_package: bool) -> list[Import]:
    """Every b3lake target of every import statement of ``source`` (anywhere in the tree).

    ``import b3lake.a.b`` → ``b3lake.a.b``; ``from b3lake.a import b`` → ``b3lake.a.b`` when that
    is a module, else ``b3lake.a`` (name ``b``); relative imports are resolved against
    ``module``. A target that is no module of ``known`` is kept as written, so that the test of
    stale imports can name it.
    """
    path = f"src/{module.replace('.', '/')}{'/__init__' if is_package else ''}.py"
    tree = ast.parse(source)
    type_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for statement in node.body
        for inner in ast.walk(statement)
    }
    out: list[Import] = []
    for node in ast.walk(tree):
        hint = id(node) in type_only
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "b3lake" or alias.name.startswith("b3lake."):
                    out.append(Import(module, path, node.lineno, alias.name, None, hint))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                parent = ".".join(base + ([node.module] if node.module else []))
            else:
                parent = node.module or ""
            if parent != "b3lake" and not parent.startswith("b3lake."):
                continue
            for alias in node.names:
                sub = f"{parent}.{alias.name}"
                if sub in known:
                    out.append(Import(module, path, node.lineno, sub, None, hint))
                else:
                    out.append(Import(module, path, node.lineno, parent, alias.name, hint))
    return out


@cache
def all_imports() -> tuple[Import, ...]:
    known = set(modules())
    found: list[Import] = []
    for name, path in modules().items():
        found += statements(name, path.read_text(), known, path.name == "__init__.py")
    return tuple(found)


def _own_submodule(imp: Import) -> bool:
    """A package ``__init__`` importing one of its own submodules (the allowed exception)."""
    return imp.path.endswith("/__init__.py") and imp.target.startswith(imp.module + ".")


@cache
def edges() -> dict[tuple[str, str], Import]:
    """``(importer, imported) -> the first statement that makes the edge`` (line order)."""
    out: dict[tuple[str, str], Import] = {}
    for imp in sorted(all_imports(), key=lambda i: (i.module, i.line)):
        if imp.target != imp.module and imp.target in modules() and not _own_submodule(imp):
            out.setdefault((imp.module, imp.target), imp)
    return out


def import_graph() -> dict[str, set[str]]:
    """module -> the b3lake modules it imports (every statement, type-only ones included)."""
    graph: dict[str, set[str]] = {m: set() for m in modules()}
    for a, b in edges():
        graph[a].add(b)
    return graph


def _components(graph: dict[str, set[str]]) -> list[list[str]]:
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


def _a_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth first, inside it)."""
    start, inside = component[0], set(component)
    came_from: dict[str, str] = {}
    todo = deque([start])
    while todo:
        v = todo.popleft()
        for w in sorted(graph[v] & inside):
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if w not in came_from:
                came_from[w] = v
                todo.append(w)
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover - a component has one


def cycle_report(graph: dict[str, set[str]]) -> list[str]:
    """One paragraph per cycle: each step names the importing module, its file and line."""
    paragraphs = []
    for component in _components(graph):
        cycle = _a_cycle(graph, component)
        steps = [
            f"  {edges()[(a, b)].where()} imports {b}"
            if (a, b) in edges()
            else f"  {a} imports {b}"
            for a, b in zip(cycle, cycle[1:], strict=False)
        ]
        paragraphs.append(
            f"import cycle among {', '.join(component)}:\n"
            + "\n".join(steps)
            + "\n  (type-only and function-level imports count: move what both need below "
            "both, or type the parameter with a Protocol of what is read, as "
            "sources.base.ScheduleSettings does)"
        )
    return paragraphs


# ------------------------------------------------------------------------------------ layering
def declared_layers(text: str | None = None) -> list[list[str]]:
    """The layering line of docs/architecture.md as layers of entries, lowest first."""
    text = ARCHITECTURE.read_text() if text is None else text
    lines = [m[1] for line in text.splitlines() if (m := LAYERS_LINE.match(line))]
    assert len(lines) == 1, (
        "docs/architecture.md must hold exactly one line starting with **Layers** and the "
        f"layering in backquotes (`errors < … < cli`); found {len(lines)}"
    )
    return [[e.strip() for e in layer.split("/")] for layer in lines[0].split("<")]


def layer_of(module: str, layers: list[list[str]]) -> int | None:
    """The index of the layer whose longest entry contains ``module`` (None: no entry does)."""
    best: tuple[int, int] | None = None
    for i, layer in enumerate(layers):
        for entry in layer:
            full = f"b3lake.{entry}"
            if (module == full or module.startswith(full + ".")) and (
                best is None or len(full) > best[1]
            ):
                best = (i, len(full))
    return None if best is None else best[0]


def layering_report(graph: dict[str, set[str]], layers: list[list[str]]) -> list[str]:
    """Every edge that goes up the layering, with the statement that makes it."""
    named = ["/".join(layer) for layer in layers]
    bad = []
    for a, targets in sorted(graph.items()):
        for b in sorted(targets):
            la, lb = layer_of(a, layers), layer_of(b, layers)
            if la is None or lb is None or lb <= la:
                continue
            imp = edges().get((a, b))
            bad.append(
                f"{imp.where() if imp else a} imports {b}: layer '{named[lb]}' is above '{named[la]}' in "
                "docs/architecture.md's **Layers** line (import downwards only, or move the "
                "code that both need below them both)"
            )
    return bad


# ---------------------------------------------------------------------------------------- tests
def test_every_statement_is_read_type_only_and_lazy_ones_included() -> None:
    source = (
        "from __future__ import annotations\n"
        "import b3lake.lake.layout\n"
        "from typing import TYPE_CHECKING\n"
        "from b3lake import tables\n"
        "if TYPE_CHECKING:\n"
        "    from b3lake.settings import Settings\n"
        "def f():\n"
        "    from b3lake.storage import storage_for\n"
        "    class C:\n"
        "        def g(self):\n"
        "            from . import local\n"
        "import json\n"
    )
    known = {"b3lake.lake.layout", "b3lake.tables", "b3lake.settings", "b3lake.storage"}
    known |= {"b3lake.catalog.local"}
    got = statements("b3lake.catalog.glue", source, known, is_package=False)
    assert [(i.line, i.target, i.name, i.type_only) for i in got] == [
        (2, "b3lake.lake.layout", None, False),
        (4, "b3lake.tables", None, False),
        (6, "b3lake.settings", "Settings", True),
        (8, "b3lake.storage", "storage_for", False),
        (11, "b3lake.catalog.local", None, False),
    ]
    # In the real tree: the job's lazy storage_for and the backends' lazy trigger handler.
    graph = import_graph()
    assert "b3lake.storage" in graph["b3lake.jobs.refine.job"]
    assert "b3lake.lambdas.trigger" in graph["b3lake.backends"]


def test_every_import_names_a_module_or_a_name_it_defines() -> None:
    """A stale import (a moved module, a renamed function) fails here, even inside a function
    that no other test runs."""
    stale = _stale(all_imports())
    assert not stale, "\n".join(stale)


def test_the_benchmarks_and_scripts_import_what_exists() -> None:
    """The same check for ``benchmarks/`` and ``scripts/``, which no test imports whole."""
    stale = []
    for path in sorted([*(ROOT / "benchmarks").glob("*.py"), *(ROOT / "scripts").glob("*.py")]):
        name = path.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
        imports = statements(name, path.read_text(), set(modules()), is_package=False)
        stale += _stale(
            Import(i.module, str(path.relative_to(ROOT)), i.line, i.target, i.name) for i in imports
        )
    assert not stale, "\n".join(stale)


def _stale(imports: Iterable[Import]) -> list[str]:
    """The statements that name no module, or a name their module does not define."""
    out = []
    for imp in imports:
        if imp.target not in modules():
            out.append(f"{imp.where()} imports {imp.target}, which is no module")
        elif imp.name is not None and imp.name not in _module_names(imp.target):
            out.append(f"{imp.where()} imports {imp.name} from {imp.target}, which lacks it")
    return out


@cache
def _module_names(module: str) -> frozenset[str]:
    """The names ``module`` binds at module level (``if``/``try`` blocks included); every
    name when it defines ``__getattr__`` (names exposed lazily) or has a star import."""
    tree = ast.parse(modules()[module].read_text())
    names: set[str] = set()
    todo: list[ast.stmt] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    return _AnyName()
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, ast.If | ast.Try | ast.With):
            todo += [*node.body, *getattr(node, "orelse", []), *getattr(node, "finalbody", [])]
            for handler in getattr(node, "handlers", []):
                todo += handler.body
    if "__getattr__" in names:
        return _AnyName()
    # A package's submodules are names of it too (``from b3lake import tables`` is a module).
    names.update(m.rpartition(".")[2] for m in modules() if m.rpartition(".")[0] == module)
    return frozenset(names)


class _AnyName(frozenset[str]):
    """A module that may expose any name (``__getattr__``)."""

    def __contains__(self, name: object) -> bool:
        return True


def test_no_import_cycle() -> None:
    cycles = cycle_report(import_graph())
    assert not cycles, "\n\n".join(cycles)


def test_the_layering_line_is_kept() -> None:
    layers = declared_layers()
    graph = import_graph()
    entries = [e for layer in layers for e in layer]
    assert len(entries) == len(set(entries)), f"an entry is named twice: {entries}"
    empty = [e for e in entries if not any(layer_of(m, [[e]]) is not None for m in modules())]
    assert not empty, f"**Layers** names no module under b3lake for: {empty}"
    unplaced = [m for m in modules() if layer_of(m, layers) is None and graph[m]]
    assert not unplaced, f"modules in no layer of docs/architecture.md's **Layers**: {unplaced}"
    bad = layering_report(graph, layers)
    assert not bad, "\n".join(bad)


def test_the_reports_name_module_line_and_cycle() -> None:
    """What a failure says, on a made-up graph of real statements."""
    graph = import_graph()
    (a, b), imp = next(iter(edges().items()))
    looped = {**graph, b: graph[b] | {a}}
    [paragraph] = [p for p in cycle_report(looped) if a in p and b in p]
    assert f"{imp.where()} imports {b}" in paragraph
    layers = [[a.removeprefix("b3lake.")], [b.removeprefix("b3lake.")]]
    [line] = layering_report({a: {b}, b: set()}, layers)
    assert line.startswith(f"{imp.where()} imports {b}: layer ")


def _reaches(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for w in graph[todo.pop()]:
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def test_the_layering_keeps_the_seams() -> None:
    """The boundaries docs/architecture.md's "Seams" promises, as facts of the declared line:
    the job is a leaf (no backends, no pipeline); lake/ imports no jobs; events/ no lambdas or
    launchers; storage and catalog know no lake layout."""
    layers = declared_layers()

    def below(low: str, high: str) -> bool:
        a, b = layer_of(low, layers), layer_of(high, layers)
        return a is not None and b is not None and a < b

    for low, high in [
        ("b3lake.jobs.refine.job", "b3lake.backends"),
        ("b3lake.jobs.refine.job", "b3lake.pipeline"),
        ("b3lake.lake.layout", "b3lake.jobs.refine.job"),
        ("b3lake.events.local_bus", "b3lake.lambdas.trigger"),
        ("b3lake.events.local_bus", "b3lake.launchers.local"),
        ("b3lake.storage.s3", "b3lake.lake.layout"),
        ("b3lake.catalog.local", "b3lake.lake.layout"),
        ("b3lake.tables.registry", "b3lake.lake.layout"),
        ("b3lake.settings", "b3lake.backends"),
        ("b3lake.backends", "b3lake.pipeline"),
    ]:
        assert below(low, high), f"{low} must sit below {high} in **Layers**"


def test_the_refine_job_reads_its_arguments_not_the_settings() -> None:
    """The job sits above the settings in the layering (they build its arguments), yet imports
    none of them, and loads none at run time, directly or not (the sources name the settings in
    type hints only): ``RefineArgs`` is all it reads. The visual job's CLI may."""
    jobs = [m for m in modules() if m.startswith(("b3lake.jobs.refine", "b3lake.jobs.glue_refine"))]
    direct = [
        i.where() for i in all_imports() if i.module in jobs and i.target == "b3lake.settings"
    ]
    assert not direct, direct
    at_run_time: dict[str, set[str]] = {m: set() for m in modules()}
    for (a, b), imp in edges().items():
        if not imp.type_only or any(
            not i.type_only for i in all_imports() if (i.module, i.target) == (a, b)
        ):
            at_run_time[a].add(b)
    reached = {m: "b3lake.settings" in _reaches(at_run_time, m) for m in jobs}
    assert not any(reached.values()), sorted(m for m, r in reached.items() if r)


def test_only_the_backends_read_the_backend_setting() -> None:
    """``settings.backend`` picks the adapters in one place."""
    readers = []
    for name, path in modules().items():
        if name in {"b3lake.backends", "b3lake.settings"}:
            continue
        if ".backend ==" in path.read_text() or ".backend !=" in path.read_text():
            readers.append(name)
    assert not readers, readers


def test_no_concrete_storage_type_checks() -> None:
    """A Storage capability (``local_path``) says what a store allows, not its class."""
    offenders = [
        name
        for name, path in modules().items()
        if "is LocalStorage" in path.read_text() or "is not LocalStorage" in path.read_text()
    ]
    assert not offenders, offenders
