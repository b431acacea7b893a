"""The package's structure, checked from its source (``ast``, nothing imported or run), so a regression fails loudly
and names its offenders: no import circle among ``sim`` modules, no long functions, docstrings on public names, no
strategy compared by name outside :mod:`sim.strategies`, and an engine that imports nothing from the layers built on
it (loader, CLI, figures, experiments, decision, calibration)."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIM = ROOT / "sim"

MAX_FUNCTION_LINES = 60
MIN_DOCSTRING_SHARE = 0.85
STRATEGY_NAMES = {"open", "closed", "absent"}

# The engine: what a run of the model needs, and nothing that is built on top of it.
ENGINE = ("sim.market", "sim.catalog", "sim.strategies", "sim.choice", "sim.kernels", "sim.population", "sim.streams",
          "sim.channels", "sim.consumer", "sim.edits")
# What the engine must not import: the loader, the CLI, figures and reports, experiments, decision, calibration.
ABOVE_ENGINE = ("sim.loading", "sim.cli", "sim.figures", "sim.experiments", "sim.decision", "sim.calibration",
                "sim.dashboard")


def within(name: str, prefixes) -> bool:
    """Whether module ``name`` is one of ``prefixes`` or inside one of them (``sim.cli_plots`` counts as the CLI)."""
    return any(name == p or name.startswith(p + ".") or (p == "sim.cli" and name.startswith("sim.cli_"))
               for p in prefixes)


@cache
def modules() -> dict[str, tuple[Path, ast.Module]]:
    """Every module under ``sim/`` by dotted name (a package by its ``__init__``), with its parsed source."""
    out = {}
    for path in sorted(SIM.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = (path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return out


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def top_level_imports(body: list[ast.stmt]):
    """Import statements run when the module is imported: not inside functions, not under ``if TYPE_CHECKING``."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        elif isinstance(node, ast.If):
            if not is_type_checking(node.test):
                yield from top_level_imports(node.body)
            yield from top_level_imports(node.orelse)
        else:  # class bodies, try/with/for blocks run at import time too
            for field in ("body", "orelse", "finalbody"):
                yield from top_level_imports(getattr(node, field, None) or [])
            for handler in getattr(node, "handlers", None) or []:
                yield from top_level_imports(handler.body)


def resolve(target: str, known) -> str | None:
    """The ``sim`` module an import names: itself if it is one, else its nearest enclosing module (``None`` when it
    lies outside ``sim``)."""
    while target:
        if target in known:
            return target
        target = target.rpartition(".")[0]
    return None


@cache
def import_graph() -> dict[str, dict[str, int]]:
    """Module-level imports among ``sim`` modules: importer -> {imported module: line}. ``from sim.x import y`` is an
    edge to ``sim.x`` (a package's ``__init__`` when ``sim.x`` is a package), or to ``sim.x.y`` alone when every name
    it imports is a submodule (Python imports a submodule even while its package is still initialising)."""
    mods = modules()
    graph = {}
    for name, (path, tree) in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = {}
        for node in top_level_imports(tree.body):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif node.level:  # relative: from . import x / from ..y import z
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                targets = [".".join(base + ([node.module] if node.module else []))]
            else:
                targets = [node.module]
            if isinstance(node, ast.ImportFrom):  # from package import submodule: an edge to the submodule
                targets += [f"{targets[0]}.{a.name}" for a in node.names if f"{targets[0]}.{a.name}" in mods]
                targets = targets[1:] if len(targets) == 1 + len(node.names) else targets
            for t in targets:
                dep = resolve(t, mods)
                if dep and dep != name:
                    edges.setdefault(dep, node.lineno)
        graph[name] = edges
    return graph


def strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module: each one holds an import circle."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_circle_among_sim_modules():
    graph = import_graph()
    assert "sim.market" in graph and graph["sim.market"], "the import graph looks empty: is the parser broken?"
    cycles = strongly_connected(graph)
    lines = []
    for comp in cycles:
        members = set(comp)
        lines.append("circle: " + ", ".join(comp))
        for a in comp:
            path = modules()[a][0]
            lines += [f"    {rel(path)}:{line}: {a} -> {b}" for b, line in sorted(graph[a].items()) if b in members]
    assert not cycles, f"{len(cycles)} import circle(s) among sim modules (module-level imports):\n" + "\n".join(lines)


def functions(tree: ast.AST, prefix: str = ""):
    """Every function and method with its qualified name, nested ones included."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield f"{prefix}{node.name}", node
            yield from functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from functions(node, f"{prefix}{node.name}.")
        else:
            yield from functions(node, prefix)


def test_no_function_longer_than_the_limit():
    long = []
    for path, tree in modules().values():
        for qualname, node in functions(tree):
            n = node.end_lineno - node.lineno + 1
            if n > MAX_FUNCTION_LINES:
                long.append((n, f"{rel(path)}:{node.lineno}: {qualname} ({n} lines)"))
    assert not long, (f"{len(long)} function(s) longer than {MAX_FUNCTION_LINES} lines (split them into named steps):\n"
                      + "\n".join(text for _, text in sorted(long, reverse=True)))


def is_public(name: str) -> bool:
    return not name.startswith("_")


def is_accessor(node: ast.FunctionDef) -> bool:
    """A property's setter or deleter: the property's own docstring covers it."""
    return any(isinstance(d, ast.Attribute) and d.attr in ("setter", "deleter") for d in node.decorator_list)


def public_names():
    """Public module-level functions and classes, and public methods (properties included) of public classes, each
    with whether it has a docstring."""
    for path, tree in modules().values():
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) or not is_public(node.name):
                continue
            yield f"{rel(path)}:{node.lineno}: {node.name}", ast.get_docstring(node) is not None
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if (isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and is_public(item.name)
                            and not is_accessor(item)):
                        yield f"{rel(path)}:{item.lineno}: {node.name}.{item.name}", ast.get_docstring(item) is not None


def test_public_names_have_docstrings():
    names = list(public_names())
    missing = [where for where, documented in names if not documented]
    share = 1 - len(missing) / len(names)
    print(f"docstrings on {len(names) - len(missing)} of {len(names)} public names ({share:.1%})")
    assert share >= MIN_DOCSTRING_SHARE, (
        f"docstrings on {share:.1%} of {len(names)} public names in sim/ (at least {MIN_DOCSTRING_SHARE:.0%} wanted); "
        f"{len(missing)} without one:\n" + "\n".join(missing))


def string_constants(node: ast.expr) -> set[str]:
    """The string constants a comparison operand names: itself, or the members of a literal tuple, list or set."""
    items = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
    return {e.value for e in items if isinstance(e, ast.Constant) and isinstance(e.value, str)}


def mentions_strategy(node: ast.expr) -> bool:
    """Whether an operand is a strategy: its source mentions one, or it is a switch's ``.to``."""
    return "strateg" in ast.unparse(node).lower() or (isinstance(node, ast.Attribute) and node.attr == "to")


def names_a_strategy(const: ast.expr, other: ast.expr) -> bool:
    """Whether ``const`` is a strategy's name compared with a strategy ``other``, or is ``"absent"``."""
    names = string_constants(const)
    return "absent" in names or bool(names & STRATEGY_NAMES and mentions_strategy(other))


def strategy_name_comparisons(tree: ast.AST):
    """Comparisons (``==``, ``!=``, ``in``, ``not in``) of a strategy with its name, and any with ``"absent"``.
    Regulation's ``applies_to`` also takes "open"/"closed" but is not a strategy, so it passes."""
    ops = (ast.Eq, ast.NotEq, ast.In, ast.NotIn)
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            pairs = zip(operands, operands[1:], node.ops, strict=False)
            if any(isinstance(op, ops) and (names_a_strategy(a, b) or names_a_strategy(b, a)) for a, b, op in pairs):
                yield node


def test_no_strategy_compared_by_name_outside_strategies():
    hits = []
    for name, (path, tree) in modules().items():
        if name == "sim.strategies":
            continue
        hits += [f"{rel(path)}:{n.lineno}: {ast.unparse(n)}" for n in strategy_name_comparisons(tree)]
    assert not hits, ("strategies compared by name outside sim/strategies.py (ask the strategy object instead: "
                      "runs_programme, releases_weights, serves_api):\n" + "\n".join(hits))


def test_the_comparison_check_catches_what_it_should():
    def flagged(src: str) -> bool:
        return any(True for _ in strategy_name_comparisons(ast.parse(src)))

    assert flagged("strategy == 'open'") and flagged("'closed' != cfg.meta.strategy") and flagged("sw.to == 'closed'")
    assert flagged("s in ('open', 'closed') and strategy_name in ('open', 'closed')") and flagged("x == 'absent'")
    assert not flagged("cfg.regulation.applies_to != 'open'") and not flagged("kind == 'open'")


def test_the_engine_imports_nothing_built_on_it():
    graph = import_graph()
    engine = [m for m in graph if within(m, ENGINE)]
    assert "sim.market.model" in engine and "sim.strategies" in engine
    bad = [f"{rel(modules()[m][0])}:{line}: {m} imports {dep}"
           for m in sorted(engine) for dep, line in sorted(graph[m].items()) if within(dep, ABOVE_ENGINE)]
    assert not bad, ("the engine imports from the loader, CLI, figures, experiments, decision or calibration "
                     "(module level):\n" + "\n".join(bad))
