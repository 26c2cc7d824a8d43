"""The package's layering, checked from the source with `ast` (no import of jax or of ismarl).

The layers, bottom to top, are listed in :data:`LAYERS`; a module may import from its own layer or
from a lower one, never from a higher one, and the module import graph has no cycles. The book's
architecture appendix draws the same graph.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ismarl"

# Module prefix -> layer (longest prefix wins), bottom to top.
LAYERS = {
    "ismarl": 0,  # the package's __init__ (version only)
    "ismarl.conventions": 1,
    "ismarl.games": 1,
    "ismarl.strategies": 1,
    "ismarl.protocol": 1,
    "ismarl._validate": 1,
    "ismarl.scale": 1,
    "ismarl.colab": 1,
    "ismarl.analytic": 2,
    "ismarl.oracle": 2,
    "ismarl.inference": 2,
    "ismarl.sim": 3,
    "ismarl.learning": 4,
    "ismarl.agents": 5,
    "ismarl.engines": 6,
    "ismarl.runs": 7,
    "ismarl.experiments": 8,
    "ismarl.analysis": 9,
    "ismarl.cli": 10,
    "ismarl.__main__": 10,
}
LAYER_NAMES = {
    0: "package",
    1: "base",
    2: "exact payoffs, oracle",
    3: "simulation",
    4: "learning dynamics",
    5: "networks, co-players",
    6: "engines",
    7: "runs",
    8: "experiments",
    9: "analysis",
    10: "command line",
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_files() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in p.parts}


def imported_modules(tree: ast.AST, name: str, is_package: bool, modules) -> set[str]:
    """The ismarl modules that a module's import statements name (``from a import b`` names the
    submodule ``a.b`` when there is one, else ``a``)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "ismarl")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                pkg = name.split(".") if is_package else name.split(".")[:-1]
                pkg = pkg[: len(pkg) - (node.level - 1)]
                base = ".".join(pkg + ([base] if base else []))
            if base.split(".")[0] != "ismarl":
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.add(sub if sub in modules else base)
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the ismarl modules it imports (self-imports dropped)."""
    files = package_files()
    graph = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        deps = imported_modules(tree, name, path.name == "__init__.py", files)
        graph[name] = {d for d in deps if d != name}
    return graph


def layer_of(module: str) -> int:
    prefix = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return LAYERS[prefix]


def find_cycle(graph):
    """One import cycle as a list of modules, or None."""
    state = {}
    stack = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return stack[stack.index(dep):] + [dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def functions(tree):
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def called_names(node) -> set[str]:
    """Names of what is called inside ``node`` (``jax.nn.sigmoid(x)`` gives ``sigmoid``)."""
    out = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Call):
            f = n.func
            if isinstance(f, ast.Attribute):
                out.add(f.attr)
            elif isinstance(f, ast.Name):
                out.add(f.id)
    return out


@pytest.fixture(scope="module")
def graph():
    return import_graph()


@pytest.fixture(scope="module")
def trees():
    return {name: (path, ast.parse(path.read_text())) for name, path in package_files().items()}


def test_every_module_has_a_layer(graph):
    for module in graph:
        assert any(module == p or module.startswith(p + ".") for p in LAYERS), module


def test_imports_resolve_to_modules(graph):
    for module, deps in graph.items():
        unknown = deps - graph.keys()
        assert not unknown, f"{module} imports missing ismarl modules {sorted(unknown)}"


def test_no_import_cycles(graph):
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_imports_inside_functions(trees):
    offenders = []
    for path, tree in trees.values():
        for fn in functions(tree):
            for n in ast.walk(fn):
                if isinstance(n, (ast.Import, ast.ImportFrom)):
                    offenders.append(f"{rel(path)}:{n.lineno} (in {fn.name})")
    assert not offenders, "imports inside functions:\n" + "\n".join(sorted(set(offenders)))


def test_layers_only_import_downward(graph, trees):
    upward = []
    for module, deps in graph.items():
        for dep in sorted(deps):
            if layer_of(dep) > layer_of(module):
                path = rel(trees[module][0])
                upward.append(f"{path}: {module} (layer {layer_of(module)}) imports {dep} "
                              f"(layer {layer_of(dep)})")
    assert not upward, "upward imports:\n" + "\n".join(upward)


def search_run_names() -> set[str]:
    """Names of configuration-search runs: the run names in results/step4_search/groups.json and
    the directories of results/step*_search. Only names with a digit or an underscore are kept
    (generic words would match by accident), and shipped runs (directories of results/, which are
    also preset names) are left out."""
    results = ROOT / "results"
    names = set()

    def collect(obj):
        if isinstance(obj, str):
            names.add(obj)
        elif isinstance(obj, dict):
            for k, v in obj.items():
                names.add(k)
                collect(v)
        elif isinstance(obj, list):
            for v in obj:
                collect(v)

    groups = json.loads((results / "step4_search" / "groups.json").read_text())
    groups.pop("about", None)
    for lever in groups.pop("LEVERS", []):  # chapter 9's table: its runs are paths under results/
        names.update(r.rsplit("/", 1)[-1] for r in lever["before_runs"] + lever["after_runs"])
    collect(list(groups.values()))  # the top-level keys name groups, not runs
    for search in ("step4_search", "step3_search"):
        names.update(p.name for p in (results / search).iterdir() if p.is_dir())
    shipped = {p.name for p in results.iterdir() if p.is_dir()}
    return {
        n for n in names
        if re.fullmatch(r"\w+", n) and re.search(r"[\d_]", n) and n not in shipped
    }


def test_no_search_run_names_in_package(trees):
    names = search_run_names()
    assert len(names) > 20  # the groups file and the search directories were read
    found = []
    for path, tree in trees.values():
        for n in ast.walk(tree):
            if isinstance(n, ast.Constant) and isinstance(n.value, str):
                hits = set(re.findall(r"\w+", n.value)) & names
                if hits:
                    found.append(f"{rel(path)}:{n.lineno}: {sorted(hits)}")
    assert not found, "search-run names in ismarl/:\n" + "\n".join(found)


def test_one_round_transition(trees):
    """One ``transition`` (sim.core), and every module that plays rounds steps through it rather than
    building the next observations itself. Reading a finished history (ismarl.inference) may use
    the convention's ``observation_index``."""
    defs = [f"{rel(path)}:{fn.lineno}" for path, tree in trees.values() for fn in functions(tree)
            if fn.name == "transition"]
    assert len(defs) == 1 and defs[0].startswith("ismarl/sim/core.py:"), defs
    players_of_rounds = ("ismarl.sim.env", "ismarl.sim.simulate", "ismarl.agents.match")
    for name in players_of_rounds:
        path, tree = trees[name]
        called = {getattr(n.func, "attr", None) or getattr(n.func, "id", None) for n in ast.walk(tree) if isinstance(n, ast.Call)}
        assert "transition" in called, f"{rel(path)} plays rounds without sim.core.transition"
        assert "observation_index" not in called, f"{rel(path)} builds observations itself"


def test_one_gru_cell(trees):
    defs = [f"{rel(path)}:{fn.lineno}" for path, tree in trees.values() for fn in functions(tree)
            if fn.name == "gru_cell"]
    assert len(defs) == 1 and defs[0].startswith("ismarl/agents/network.py:"), defs
    # Gate code: a function that calls both sigmoid and tanh (the GRU's gates and candidate).
    # Memory-1 policies are sigmoid(logits) and are not gates.
    gates = [
        f"{rel(path)}:{fn.lineno} ({fn.name})"
        for name, (path, tree) in trees.items() if name != "ismarl.agents.network"
        for fn in functions(tree)
        if {"sigmoid", "tanh"} <= called_names(fn)
    ]
    assert not gates, "recurrent gate code outside ismarl/agents/network.py:\n" + "\n".join(gates)


def test_run_layer_knows_no_particular_engine(graph, trees):
    """ismarl/runs/ reaches engines only through the registry (``ismarl.engines``) and the shared
    experiment config and seeds: it imports no engine subpackage and never names one."""
    engines = {p.parent.name for p in (PACKAGE / "engines").glob("*/__init__.py")}
    shared = {"ismarl.engines", "ismarl.engines.experiment", "ismarl.engines.seeds"}
    found = [f"{module} imports {dep}" for module, deps in sorted(graph.items())
             if module.startswith("ismarl.runs") for dep in sorted(deps)
             if dep.startswith("ismarl.engines.") and dep not in shared]
    for name, (path, tree) in trees.items():
        if name.startswith("ismarl.runs"):
            found += [f"{rel(path)}:{n.lineno}: names the engine {n.value!r}" for n in ast.walk(tree)
                      if isinstance(n, ast.Constant) and n.value in engines]
    assert not found, "the run layer depends on a particular engine:\n" + "\n".join(found)
