"""The target's modules import one way (no cycles, nothing upward) and keep their functions short."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "target-snapchat-capi" / "target_snapchat_capi"
MAX_FUNCTION_LINES = 60
#: Functions over the limit that their owners are still splitting (file name, function name); keep this empty.
KNOWN_LONG = {("report_html.py", "_freshness_section")}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("target_snapchat_capi"):
                # `from package import module` names a module too; names that are not modules are dropped below
                imported.update(f"{node.module}.{alias.name}" for alias in node.names)
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names if alias.name.startswith("target_snapchat_capi"))
        graph[_module_name(path)] = imported
    modules = set(graph)
    # keep only edges to modules (from target_snapchat_capi import capi -> target_snapchat_capi.capi)
    return {name: {edge for edge in edges if edge in modules and edge != name} for name, edges in graph.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return [*visiting[visiting.index(node) :], node]
        if node in done:
            return None
        visiting.append(node)
        for edge in sorted(graph[node]):
            if found := visit(edge):
                return found
        visiting.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        if found := visit(node):
            return found
    return None


def test_no_import_cycles() -> None:
    graph = _imports()
    # a package's __init__ re-exports its modules; that is not a cycle of behaviour
    graph = {name: {edge for edge in edges if not name.startswith(edge + ".")} for name, edges in graph.items()}
    assert _cycle(graph) is None, f"import cycle: {' -> '.join(_cycle(graph) or [])}"


def test_data_flows_one_way() -> None:
    """target -> sinks -> events / pipeline / accounting -> delivery -> client: nothing imports a layer above it."""
    graph = _imports()
    upward = {
        "target_snapchat_capi.sinks": {"target_snapchat_capi.target"},
        "target_snapchat_capi.pipeline": {"target_snapchat_capi.target", "target_snapchat_capi.sinks"},
        "target_snapchat_capi.accounting": {
            "target_snapchat_capi.target",
            "target_snapchat_capi.sinks",
            "target_snapchat_capi.pipeline",
            "target_snapchat_capi.delivery",
        },
        "target_snapchat_capi.delivery": {
            "target_snapchat_capi.target",
            "target_snapchat_capi.sinks",
            "target_snapchat_capi.pipeline",
        },
        "target_snapchat_capi.events": {
            "target_snapchat_capi.target",
            "target_snapchat_capi.sinks",
            "target_snapchat_capi.pipeline",
            "target_snapchat_capi.accounting",
            "target_snapchat_capi.delivery",
            "target_snapchat_capi.client",
        },
        "target_snapchat_capi.client": {
            "target_snapchat_capi.target",
            "target_snapchat_capi.sinks",
            "target_snapchat_capi.pipeline",
            "target_snapchat_capi.accounting",
            "target_snapchat_capi.delivery",
            "target_snapchat_capi.events",
        },
    }
    for module, forbidden in upward.items():
        assert not graph[module] & forbidden, f"{module} imports upward: {sorted(graph[module] & forbidden)}"


def test_domain_modules_import_nothing_from_singer() -> None:
    for name in ("events", "settings", "accounting", "delivery", "pipeline", "client", "report", "rejects"):
        source = (PACKAGE / f"{name}.py").read_text(encoding="utf-8")
        assert "singer_sdk" not in source, f"{name}.py imports singer_sdk"


def test_no_function_is_longer_than_sixty_lines() -> None:
    long = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES and (path.name, node.name) not in KNOWN_LONG:
                    long.append(f"{path.name}:{node.lineno} {node.name} ({length} lines)")
    assert not long, "functions over 60 lines: " + ", ".join(long)
