"""The package's layers, checked from its source: no import cycle, no upward import, no torch in the widget layer.

Every import statement of every module counts for the first two rules, including imports inside functions
(lazy imports still tie two modules together: a lazy cycle is a cycle a reader has to untangle) and the lazy
facades (the ``_EXPORTS`` tables of ``__init__.py``, imported with importlib). The import of a package's
``__init__`` that Python makes before any of its modules is not counted: every module would be in a cycle with
its package. The third rule is about import time only: a widget module may import torch inside a function,
but importing the module must not load it (DESIGN.md: widgets render saved state without a model stack).

The second half of the file feeds the same checker a tiny fake package with each fault, so each rule is known
to be able to fail.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "saewidgets"

# Lower first; a module may import modules of its own rank or below, never above. A key names a module relative
# to the package and everything under it ("widgets" is saewidgets.widgets and saewidgets.widgets.*); the longest
# key wins, and "__init__" is the top-level facade. A new module goes here before its first import.
LAYERS: tuple[tuple[str, ...], ...] = (
    # plain settings and private infrastructure: they import nothing above them (ideally nothing at all)
    ("config", "_files", "_devices", "_host_memory", "_hub", "_checkpoint"),
    ("_kernels",),  # fused encoder/decoder kernels; sae and ste call them
    ("ste",),  # JumpReLU's straight-through estimators
    ("sae",),  # the SAE architectures, one page of maths
    ("matryoshka",),  # BatchTopK with nested dictionaries: a subclass of sae's, registered with build_sae
    ("activation_set",),  # leaf data types for activations: what training consumes and a cache returns
    ("training",),
    ("zoo",),  # the bundled story world, tokenizer and model assets (its two training scripts are at the top)
    ("_sae_tensors",),  # checking and adopting a SAE file's tensors: shared by the readers above it
    ("saelens_cfg",),  # cfg.json <-> SAEConfig, ours and SAELens's
    ("gemma_scope", "releases"),  # Gemma Scope 1 and 2 files; the pretrained-SAE table and the hub cache
    ("io",),  # SAE files: ours, SAELens', Gemma Scope, release ids; the bundled reader SAE from zoo
    ("corpora",),  # text corpora; below models: a corpus never needs a model
    ("models",),
    ("activation_cache",),
    ("activations",),  # harvest: model + corpus -> ActivationSet
    # what is done with activations and models
    # torch-free maths, toy data, sampling, token strings, metric names and directions
    ("frontier", "example_windows", "token_text", "toy", "generation", "metric_info"),
    ("metrics", "features", "steering"),
    ("concepts", "sweeps"),
    ("evals",),  # SAEBench-style metrics, checked against the planted labels (concepts)
    ("datacentric",),
    ("widgets",),  # no torch at import time (see test_widgets_do_not_import_torch)
    ("report", "eval_page", "evaluation"),  # offline pages (demo, saewidgets eval) and what fills them
    ("__init__",),  # the public facade: `import saewidgets as sw`
    # entry points: nothing in the library imports them
    ("cli", "notebook", "checks", "zoo.train_storyteller", "zoo.train_reader_sae"),
)


class Import(NamedTuple):
    target: str  # the imported module, absolute
    line: int
    lazy: bool  # inside a function: runs on call, not at import time


def modules_of(root: Path, package: str) -> dict[str, Path]:
    """Module name -> file, for every .py file of the package under ``root``."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _lazy_nodes(tree: ast.AST) -> set[int]:
    return {
        id(node)
        for fn in ast.walk(tree)
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for node in ast.walk(fn)
        if node is not fn
    }


def _is_exports_table(node: ast.AST) -> bool:
    names = (
        node.targets
        if isinstance(node, ast.Assign)
        else [node.target]
        if isinstance(node, ast.AnnAssign)
        else []
    )
    return isinstance(getattr(node, "value", None), ast.Dict) and any(
        getattr(t, "id", None) == "_EXPORTS" for t in names
    )


def imports_of(module: str, path: Path, known: set[str]) -> list[Import]:
    """The package-internal imports of one module (every statement, at any depth), as absolute module names.

    ``from X import y`` imports the module X.y when there is one, else X (y is a name defined in X)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    lazy = _lazy_nodes(tree)
    top = module.split(".")[0]
    here = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]  # the module's package
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = (
                ".".join(here[: len(here) - node.level + 1] + [node.module or ""]).strip(".")
                if node.level
                else node.module
            )
            targets = list(
                dict.fromkeys(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names)
            )  # `from m import a, b` is one import of m
        elif path.name == "__init__.py" and _is_exports_table(node):
            # a lazy facade: {"name": "module relative to this package"}, imported on first attribute access
            targets = [
                ".".join(here + [v.value.lstrip(".")])
                for v in node.value.values
                if isinstance(v, ast.Constant) and isinstance(v.value, str)
            ]
            found += [Import(t, node.lineno, True) for t in targets]
            continue
        else:
            continue
        found += [Import(t, node.lineno, id(node) in lazy) for t in targets if t.split(".")[0] == top]
    return found


def import_graph(root: Path, package: str) -> dict[str, list[Import]]:
    files = modules_of(root, package)
    return {m: imports_of(m, p, set(files)) for m, p in files.items()}


def find_cycles(graph: dict[str, list[Import]]) -> list[list[str]]:
    """One cycle (a -> b -> ... -> a) per strongly connected component that has one (Tarjan's algorithm)."""
    edges = {m: sorted({i.target for i in imps if i.target in graph}) for m, imps in graph.items()}
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges[v]:
                components.append(component)

    for v in sorted(edges):
        if v not in index:
            visit(v)
    cycles = []
    for component in components:  # shortest way from the first module back to itself, inside the component
        start = min(component)
        paths, seen = [[start]], set()
        while paths:
            path = paths.pop(0)
            nxt = [w for w in edges[path[-1]] if w in component]
            if start in nxt:
                cycles.append(path + [start])
                break
            for w in nxt:
                if w not in seen:
                    seen.add(w)
                    paths.append(path + [w])
    return sorted(cycles)


def rank_of(module: str, package: str, layers=LAYERS) -> int | None:
    rel = module[len(package) + 1 :] if module != package else "__init__"
    best = None
    for rank, keys in enumerate(layers):
        for key in keys:
            if (rel == key or rel.startswith(key + ".")) and (best is None or len(key) > len(best[1])):
                best = (rank, key)
    return None if best is None else best[0]


def layer_violations(graph: dict[str, list[Import]], package: str, layers=LAYERS) -> list[str]:
    """Upward imports, modules the table does not place, and imports of modules that do not exist."""
    problems = [
        f"{m} is not in LAYERS: give it a rank" for m in sorted(graph) if rank_of(m, package, layers) is None
    ]
    for m, imps in sorted(graph.items()):
        for imp in imps:
            if imp.target not in graph:
                problems.append(f"{m}:{imp.line} imports {imp.target}, which does not exist")
                continue
            low, high = rank_of(m, package, layers), rank_of(imp.target, package, layers)
            if low is not None and high is not None and high > low:
                how = "lazily " if imp.lazy else ""
                problems.append(f"{m}:{imp.line} {how}imports {imp.target}, a higher layer ({high} > {low})")
    return problems


# In a fresh interpreter: import one module and say whether torch got loaded, and from where (the package's
# frames on the stack when Python first looked for it).
_PROBE = """
import json, os, sys, traceback
root, package, module, forbidden = sys.argv[1:5]
sys.path.insert(0, root)
mine = os.path.join(root, package) + os.sep
first = {}
class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == forbidden and not first:
            frames = [f for f in traceback.extract_stack() if f.filename.startswith(mine)]
            first["via"] = [f"{f.filename[len(root) + 1:]}:{f.lineno}" for f in reversed(frames)]
        return None
sys.meta_path.insert(0, Watch())
__import__(module)
print(json.dumps({"loaded": forbidden in sys.modules, "via": first.get("via", [])}))
"""


def loads_at_import(root: Path, modules: list[str], forbidden: str = "torch") -> dict[str, str]:
    """Module -> where `forbidden` came from, for each module whose import loads it (each in a fresh process)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    procs = {
        m: subprocess.Popen(
            [sys.executable, "-c", _PROBE, str(root), m.split(".")[0], m, forbidden],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for m in modules
    }
    found = {}
    for m, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"import {m} failed:\n{err[-3000:]}"
        result = json.loads(out.strip().splitlines()[-1])
        if result["loaded"]:
            found[m] = " <- ".join(result["via"]) or "(no frame of the package on the stack)"
    return found


# ---------------------------------------------------------------------------------------------- the package


def test_no_import_cycles():
    cycles = find_cycles(import_graph(ROOT, PACKAGE))
    assert not cycles, "import cycles (lazy imports count):\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_no_upward_imports():
    problems = layer_violations(import_graph(ROOT, PACKAGE), PACKAGE)
    assert not problems, "layers (LAYERS in this file, lower first):\n" + "\n".join(problems)


def test_widgets_do_not_import_torch():
    widgets = sorted(
        m
        for m in modules_of(ROOT, PACKAGE)
        if m == f"{PACKAGE}.widgets" or m.startswith(f"{PACKAGE}.widgets.")
    )
    assert len(widgets) > 5
    loaded = loads_at_import(ROOT, widgets)
    assert not loaded, "importing these loads torch:\n" + "\n".join(
        f"{m}: {via}" for m, via in loaded.items()
    )


def test_the_layer_table_names_each_module_once():
    keys = [k for rank in LAYERS for k in rank]
    assert len(keys) == len(set(keys))


# ------------------------------------------------------------------- each rule fails on a package that breaks it


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return tmp_path


def test_every_form_of_import_is_seen(tmp_path):
    root = _package(
        tmp_path,
        {
            "pkg/__init__.py": '_EXPORTS = {"thing": "sub.deep"}\n',
            "pkg/a.py": "import pkg.b\nfrom pkg import c\nfrom pkg.c import name\nimport os\n",
            "pkg/b.py": "def f():\n    from . import c\n",
            "pkg/c.py": "name = 1\n",
            "pkg/sub/__init__.py": "from .. import a\n",
            "pkg/sub/deep.py": "from . import other\nfrom .. import c as cc\nfrom ..b import f\n",
            "pkg/sub/other.py": "",
        },
    )
    graph = import_graph(root, "pkg")
    assert graph["pkg"] == [Import("pkg.sub.deep", 1, True)]
    assert sorted(graph["pkg.a"]) == [
        Import("pkg.b", 1, False),
        Import("pkg.c", 2, False),
        Import("pkg.c", 3, False),
    ]
    assert graph["pkg.b"] == [Import("pkg.c", 2, True)]
    assert graph["pkg.sub"] == [Import("pkg.a", 1, False)]
    assert sorted(graph["pkg.sub.deep"]) == [
        Import("pkg.b", 3, False),
        Import("pkg.c", 2, False),
        Import("pkg.sub.other", 1, False),
    ]


def test_a_cycle_is_caught_even_through_a_lazy_import(tmp_path):
    root = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from . import b\n",
            "pkg/b.py": "from pkg import c\n",
            "pkg/c.py": "def later():\n    from pkg.a import thing\n",
            "pkg/d.py": "from . import a\n",  # imports into the cycle, is not part of it
        },
    )
    assert find_cycles(import_graph(root, "pkg")) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]
    (root / "pkg" / "c.py").write_text("")
    assert find_cycles(import_graph(root, "pkg")) == []


def test_a_module_importing_itself_is_a_cycle():
    assert find_cycles({"p.a": [Import("p.a", 1, True)]}) == [["p.a", "p.a"]]


def test_an_upward_import_is_caught_even_when_lazy(tmp_path):
    root = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/low.py": "def f():\n    from pkg.high import g\n",
            "pkg/high.py": "from . import low\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/x.py": "from pkg import low\n",
        },
    )
    layers = (("low",), ("high", "sub"), ("__init__",))
    assert layer_violations(import_graph(root, "pkg"), "pkg", layers) == [
        "pkg.low:2 lazily imports pkg.high, a higher layer (1 > 0)"
    ]
    assert layer_violations(import_graph(root, "pkg"), "pkg", (("low",), ("sub",), ("high", "__init__"))) == [
        "pkg.low:2 lazily imports pkg.high, a higher layer (2 > 0)"
    ]


def test_an_unplaced_module_and_a_missing_one_are_caught(tmp_path):
    root = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg import gone\nimport pkg.moved.away\n",
            "pkg/new.py": "",
        },
    )
    assert layer_violations(import_graph(root, "pkg"), "pkg", (("a", "__init__"),)) == [
        "pkg.new is not in LAYERS: give it a rank",
        "pkg.a:2 imports pkg.moved.away, which does not exist",
    ]


def test_the_facade_is_above_what_it_exports():
    graph = {"p": [Import("p.w", 1, True)], "p.w": [Import("p", 3, False)]}
    assert layer_violations(graph, "p", (("w",), ("__init__",))) == [
        "p.w:3 imports p, a higher layer (1 > 0)"
    ]


def test_the_longest_key_wins():
    layers = (("zoo",), ("sae",), ("zoo.train",))
    assert [
        rank_of(f"p.{m}", "p", layers) for m in ("zoo", "zoo.corpus", "zoo.train", "zoo.train.x", "sae")
    ] == [0, 0, 2, 2, 1]
    assert rank_of("p", "p", layers) is None and rank_of("p.zoology", "p", layers) is None


def test_torch_at_import_is_caught_and_traced_but_a_lazy_import_is_not(tmp_path):
    # a stand-in torch on the path first, so the probe watches the name without paying for the real import
    root = _package(
        tmp_path,
        {
            "torch/__init__.py": "",
            "pkg/__init__.py": "",
            "pkg/maths.py": "import torch\n",
            "pkg/widgets/__init__.py": "",
            "pkg/widgets/clean.py": "import json\n",
            "pkg/widgets/heavy.py": "import json\nfrom pkg import maths\n",
            "pkg/widgets/lazy.py": "def f():\n    import torch\n",
        },
    )
    modules = ["pkg.widgets", "pkg.widgets.clean", "pkg.widgets.heavy", "pkg.widgets.lazy"]
    assert loads_at_import(root, modules) == {"pkg.widgets.heavy": "pkg/maths.py:1 <- pkg/widgets/heavy.py:2"}
