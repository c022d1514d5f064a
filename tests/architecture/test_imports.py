"""The code's shape, checked from its imports: layers, no cycles, few loose modules."""

from __future__ import annotations

from tests.architecture.imports import (
    ROOT,
    cycles,
    import_graph,
    modules,
    package_graph,
    package_of,
)


def test_the_graph_sees_real_imports() -> None:
    graph = import_graph()
    assert "registry.core.partitions" in graph["registry.core.migrate"]
    assert "registry.access.service" in graph["registry.cli.users"]  # inside a function
    assert any(t.startswith("registry.") for t in graph["api.app"])
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_no_package_import_cycle() -> None:
    assert cycles(package_graph(import_graph())) == []


def test_linkage_imports_nothing_of_the_project() -> None:
    graph = import_graph()
    leaks = {m: sorted(t for t in ts if not t.startswith("linkage")) for m, ts in graph.items()}
    assert {m: ts for m, ts in leaks.items() if m.startswith("linkage") and ts} == {}


def test_registry_never_imports_the_api() -> None:
    graph = import_graph()
    upward = {
        m: sorted(t for t in ts if t.startswith("api"))
        for m, ts in graph.items()
        if m.startswith("registry")
    }
    assert {m: ts for m, ts in upward.items() if ts} == {}


def test_core_stands_on_nothing_of_the_registry() -> None:
    graph = import_graph()
    outward = {
        m: sorted(t for t in ts if package_of(t) not in ("registry.core", "linkage"))
        for m, ts in graph.items()
        if package_of(m) == "registry.core"
    }
    assert {m: ts for m, ts in outward.items() if ts} == {}


def test_at_most_six_loose_modules_at_the_root_of_registry() -> None:
    loose = sorted(p.name for p in (ROOT / "registry").glob("*.py"))
    assert len(loose) <= 6, loose
    assert "registry.core" in modules()
