"""Records, persons, ingest and the submission flow stand on each other in one direction only."""

from __future__ import annotations

from tests.architecture.imports import cycles, import_graph, package_graph

#: Each package and the packages above it that it must never import.
ABOVE = {
    "registry.records": (
        "registry.persons",
        "registry.matching",
        "registry.ingest",
        "registry.overview",
        "registry.submission",
        "registry.imports",
    ),
    "registry.persons": (
        "registry.ingest",
        "registry.overview",
        "registry.submission",
        "registry.imports",
    ),
    "registry.ingest": ("registry.overview", "registry.submission", "registry.imports"),
    "registry.submission": ("registry.imports",),
}


def test_no_package_imports_one_above_it() -> None:
    graph = package_graph(import_graph())
    upward = {p: sorted(set(graph.get(p, ())) & set(above)) for p, above in ABOVE.items()}
    assert {p: ts for p, ts in upward.items() if ts} == {}


def test_no_package_cycle_among_records_persons_ingest_overview_submission() -> None:
    graph = package_graph(import_graph())
    assert cycles(graph) == []
