"""The layout's rules, checked on the source: imports form no cycle, the pure-torch model imports no
framework and nothing of the layers above it (deploy, run, cli, config, lit_module), the config layer no
torch, and nothing below the run layer reaches up into it. Imports under ``if TYPE_CHECKING:`` count too."""

from __future__ import annotations

import ast
from pathlib import Path

UPPER = tuple(
    f"winclip_lit.{name}"
    for name in ("cli", "tasks", "engine", "callbacks", "loggers", "reporting", "lit_module")
)
"""The run layers: the command, its tasks, their engine and the Lightning-side presentation."""

SRC = Path(__file__).resolve().parents[1] / "src" / "winclip_lit"


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(path: Path, inside_functions: bool = False) -> set[str]:
    """Modules imported at module level, ``if TYPE_CHECKING:`` blocks included (with ``inside_functions``
    also the lazy imports in functions)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    kinds = (ast.Import, ast.ImportFrom, ast.Try, ast.If)
    if inside_functions:
        kinds += (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef, ast.With)
    for node in tree.body:
        for sub in ast.walk(node) if isinstance(node, kinds) else []:
            if isinstance(sub, ast.Import):
                found |= {alias.name for alias in sub.names}
            elif isinstance(sub, ast.ImportFrom) and sub.module and sub.level == 0:
                found.add(sub.module)
                found |= {f"{sub.module}.{alias.name}" for alias in sub.names}
    return found


def graph(inside_functions: bool = True) -> dict[str, set[str]]:
    modules = {module_name(p): p for p in SRC.rglob("*.py")}
    return {
        name: {m for m in top_level_imports(path, inside_functions) if m in modules and m != name}
        for name, path in modules.items()
    }


def test_imports_form_no_cycle_not_even_lazy_ones() -> None:
    edges = graph()
    for package in [m for m in edges if (SRC.parent / m.replace(".", "/") / "__init__.py").exists()]:
        edges[package] = set()  # a package's lazy __getattr__ exports are not dependencies of its modules
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*trail, node, nxt]))
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [])


MODEL_MUST_NOT_IMPORT = (
    "winclip_lit.deploy",
    "winclip_lit.run",
    "winclip_lit.cli",
    "winclip_lit.config",
    "winclip_lit.lit_module",
)
"""The layers above the pure-torch model: it imports none of them, not even lazily or for type hints."""


def test_top_level_imports_see_type_checking_blocks(tmp_path: Path) -> None:
    source = tmp_path / "example.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from winclip_lit.deploy.export import export_onnx\n"
        "def f():\n    import winclip_lit.run.tasks\n"
    )
    assert "winclip_lit.deploy.export" in top_level_imports(source)
    assert "winclip_lit.run.tasks" not in top_level_imports(source)
    assert "winclip_lit.run.tasks" in top_level_imports(source, inside_functions=True)


def test_the_model_imports_nothing_above_it() -> None:
    for path in (SRC / "model").rglob("*.py"):
        imports = top_level_imports(path, inside_functions=True)
        upward = {i for i in imports if i.startswith(MODEL_MUST_NOT_IMPORT)}
        assert not upward, (module_name(path), upward)


def test_layers_point_downwards() -> None:
    for path in SRC.rglob("*.py"):
        name, imports = module_name(path), top_level_imports(path)
        if name.startswith("winclip_lit.model"):
            heavy = {i for i in imports if i.split(".")[0] in ("lightning", "hydra", "wandb", "omegaconf")}
            assert not heavy, (name, heavy)
            assert not {i for i in imports if i.startswith((*UPPER, "winclip_lit.config"))}, name
        if name.startswith(
            ("winclip_lit.config", "winclip_lit.data", "winclip_lit.metrics", "winclip_lit.model")
        ):
            assert not {i for i in imports if i.startswith(UPPER)}, name
        if name.startswith("winclip_lit.config"):
            assert not {i for i in imports if i.split(".")[0] in ("torch", "open_clip", "lightning")}, name
