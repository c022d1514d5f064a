"""Attack: an analyst recovers a suppressed count from the linear relations the answers publish.

The fixture (one enrolment per person and programme, all women born in 1985):

    SEL85   1.12.0.1  persons 0-1   region 1084   from 2024-01-01
    SEL85   1.12.0.2  persons 2-9   region 1084   from 2024-01-01
    SEL104  1.1       persons 0-5   region 1085   from 2024-01-01
    SEL82   1.18.1    persons 20-21 region 1086   from 2024-07-01

On 2024-06-30 the one small cell is (SEL85, 1.12.0.1) = 2; on 2024-07-31 SEL82's 2 persons
make the overlap diagonal's one small cell.
"""

from __future__ import annotations

from fractions import Fraction
from itertools import combinations
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.api.conftest import Setup, setup  # noqa: F401  (the fixture)
from tests.factories import bearer, client_token, make_client
from tests.overview.conftest import episode, push

K = 5
SMALL_DAY, OVERLAP_DAY = "2024-06-30", "2024-07-31"


def person(i: int) -> dict[str, str]:
    """Person i: a distinct valid CPR number, born in January 1985."""
    day = i % 28 + 1
    return {"national_id": f"{day:02d}0185{1000 + i:04d}", "born": f"1985-01-{day:02d}", "sex": "F"}


def grant(prefix: str, i: int, code: str, region: str, start: str = "2024-01-01") -> Any:
    return episode(f"{prefix}{i}", benefit=code, start=start, end=None, region=region, **person(i))


@pytest.fixture
def analyst(client: TestClient, setup: Setup, engine: Engine) -> Setup:  # noqa: F811
    sel85 = [grant("A", i, "1.12.0.1" if i < 2 else "1.12.0.2", "1084") for i in range(10)]
    push(client, setup.sel85, "SEL85", "s1", sel85)
    push(client, setup.sel104, "SEL104", "t1", [grant("B", i, "1.1", "1085") for i in range(6)])
    sel82 = client_token(client, *make_client(engine, "SEL82"))
    push(
        client,
        sel82,
        "SEL82",
        "u1",
        [grant("C", i, "1.18.1", "1086", "2024-07-01") for i in (20, 21)],
    )
    return setup


def get(client: TestClient, token: str, path: str, **params: Any) -> Any:
    response = client.get(f"/api/v1/overview/{path}", params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


def test_nested_benefit_code_is_not_the_programme_minus_its_other_codes(
    client: TestClient, analyst: Setup
) -> None:
    """by=programme,benefit_code: the one hidden cell = total (or programme) - published cells."""
    nested = get(client, analyst.analyst, "coverage", as_of=SMALL_DAY, by="programme,benefit_code")
    cells = {(r["programme"], r["benefit_code"]): r["enrolments"] for r in nested["rows"]}
    assert cells[("SEL85", "1.12.0.1")] is None
    total = nested["total"]["enrolments"]
    by_programme = get(client, analyst.analyst, "coverage", as_of=SMALL_DAY, by="programme")
    programme = {r["programme"]: r["enrolments"] for r in by_programme["rows"]}
    shown = sum(v for v in cells.values() if v is not None)
    shown_in_sel85 = sum(v for (p, _), v in cells.items() if p == "SEL85" and v is not None)
    # the true value is 2: neither subtraction may give it
    assert total is None or total - shown != 2
    assert programme["SEL85"] is None or programme["SEL85"] - shown_in_sel85 != 2
    by_code = get(client, analyst.analyst, "coverage", as_of=SMALL_DAY, by="benefit_code")
    codes = {r["benefit_code"]: r["enrolments"] for r in by_code["rows"]}
    assert codes["1.12.0.1"] is None
    assert programme["SEL85"] is None or codes["1.12.0.2"] is None


def test_overlap_diagonal_is_not_the_by_count_sum_minus_the_other_diagonals(
    client: TestClient, analyst: Setup
) -> None:
    """overlaps: the hidden diagonal = sum of n * by_count - the published diagonals."""
    body = get(client, analyst.analyst, "overlaps", as_of=OVERLAP_DAY)
    assert body["matrix"]["SEL82"]["SEL82"] is None
    by_count = body["by_count"]
    diagonal = {p: body["matrix"][p][p] for p in body["programmes"]}
    if all(v is not None for v in by_count.values()):
        weighted = sum(int(n) * v for n, v in by_count.items())
        shown = sum(v for v in diagonal.values() if v is not None)
        hidden = [p for p, v in diagonal.items() if v is None]
        assert len(hidden) >= 2 and weighted - shown != 2
    # the same programme totals in coverage by programme (persons) agree with the diagonal
    coverage = get(client, analyst.analyst, "coverage", as_of=OVERLAP_DAY, by="programme")
    assert {r["programme"]: r["persons"] for r in coverage["rows"]} == {
        p: v for p, v in diagonal.items() if p in {r["programme"] for r in coverage["rows"]}
    }
    # and a one-day time series publishes the same programme counts, suppressed alike
    series = get(client, analyst.analyst, "timeseries", **{"from": OVERLAP_DAY, "to": OVERLAP_DAY})
    assert {r["programme"]: r["persons"] for r in series["rows"] if r["persons"] != 0} == {
        p: v for p, v in diagonal.items() if v != 0
    }


DIMENSIONS = ("programme", "benefit_code", "region", "sex")


def determined(unknowns: list[Any], equations: list[set[Any]], target: set[Any]) -> bool:
    """True when the sum over `target` follows from the sums over `equations` (exact)."""
    column = {u: j for j, u in enumerate(unknowns)}
    rows = [[Fraction(int(u in eq)) for u in unknowns] for eq in equations]
    goal = [Fraction(int(u in target)) for u in unknowns]

    def rank(matrix: list[list[Fraction]]) -> int:
        m = [row[:] for row in matrix]
        r = 0
        for c in range(len(column)):
            pivot = next((i for i in range(r, len(m)) if m[i][c] != 0), None)
            if pivot is None:
                continue
            m[r], m[pivot] = m[pivot], m[r]
            for i in range(len(m)):
                if i != r and m[i][c] != 0:
                    f = m[i][c] / m[r][c]
                    m[i] = [a - f * b for a, b in zip(m[i], m[r], strict=True)]
            r += 1
        return r

    return rank(rows) == rank([*rows, goal])


@pytest.mark.parametrize("day", [SMALL_DAY, OVERLAP_DAY])
def test_no_hidden_count_follows_from_every_coverage_answer_together(
    client: TestClient, analyst: Setup, day: str
) -> None:
    """Enrolments add up exactly: solve every published coverage cell of every `by` at once."""
    finest = get(client, analyst.oversight, "coverage", as_of=day, by=",".join(DIMENSIONS))
    unknowns = [tuple(r[d] for d in DIMENSIONS) for r in finest["rows"]]
    equations: list[set[Any]] = []
    secrets: list[tuple[str, set[Any]]] = []
    for n in range(len(DIMENSIONS) + 1):
        for by in combinations(DIMENSIONS, n):
            if not by:
                body = get(client, analyst.analyst, "coverage", as_of=day, by="programme")
                cells = [({}, body["total"])]
            else:
                body = get(client, analyst.analyst, "coverage", as_of=day, by=",".join(by))
                cells = [({d: r[d] for d in by}, r) for r in body["rows"]]
            for key, counts in cells:
                members = {
                    u for u in unknowns if all(u[DIMENSIONS.index(d)] == v for d, v in key.items())
                }
                truth = sum(
                    r["persons"]
                    for r in finest["rows"]
                    if tuple(r[d] for d in DIMENSIONS) in members
                )
                if counts["enrolments"] is not None:
                    equations.append(members)
                elif 0 < truth < K:
                    secrets.append((f"by={','.join(by)} {key}", members))
    assert secrets
    for name, members in secrets:
        assert not determined(unknowns, equations, members), name


# --------------------------------------------------------------------------------------------
# Known limit (2), closed: coverage by programme publishes each P_a and the total T, and
# sum(P_a) - T = sum((n - 1) * by_count[n]); with two programmes that is the overlap count.

BOTH_DAY = "2024-06-30"
BOTH = 3  # persons in SEL85 and SEL104: small, so hidden everywhere


@pytest.fixture
def overlapping(client: TestClient, setup: Setup) -> Setup:  # noqa: F811
    """10 persons in SEL85 alone, 10 in SEL104 alone, 3 in both; half of each are men."""

    def both(prefix: str, i: int, code: str, region: str) -> Any:
        sex = {"sex": "M" if i % 2 else "F"}
        return episode(
            f"{prefix}{i}",
            benefit=code,
            start="2024-01-01",
            end=None,
            region=region,
            **(person(i) | sex),
        )

    shared = range(40, 40 + BOTH)
    sel85 = [both("A", i, "1.12.0.2", "1084") for i in [*range(10), *shared]]
    sel104 = [both("B", i, "1.1", "1084") for i in [*range(20, 30), *shared]]
    push(client, setup.sel85, "SEL85", "s1", sel85)
    push(client, setup.sel104, "SEL104", "t1", sel104)
    return setup


def published_totals(client: TestClient, token: str) -> list[int]:
    """Every value of T an analyst can read or sum back from coverage answers of the day."""
    found = []
    for by in ("programme", "sex", "region", "age_band", "sex,age_band", "region,sex"):
        body = get(client, token, "coverage", as_of=BOTH_DAY, by=by)
        if body["total"]["persons"] is not None:
            found.append(body["total"]["persons"])
        if "programme" not in by and all(r["persons"] is not None for r in body["rows"]):
            # each person has one sex, age band and (here) region: the cells add up to T
            found.append(sum(r["persons"] for r in body["rows"]))
    return found


def test_the_overlap_is_not_the_programme_counts_minus_the_total(
    client: TestClient, overlapping: Setup
) -> None:
    """by=programme: P_a + P_b - T = persons in both (3), whatever answer gives T."""
    truth = get(client, overlapping.oversight, "coverage", as_of=BOTH_DAY, by="programme")
    assert truth["total"]["persons"] == 20 + BOTH  # the fixture is what it says
    body = get(client, overlapping.analyst, "coverage", as_of=BOTH_DAY, by="programme")
    programmes = [r["persons"] for r in body["rows"]]
    assert body["total"]["persons"] is None or None in programmes
    if None not in programmes:
        for total in published_totals(client, overlapping.analyst):
            assert sum(programmes) - total != BOTH, total


def test_the_overlap_is_not_by_count_with_the_diagonal_and_the_total(
    client: TestClient, overlapping: Setup
) -> None:
    """overlaps: by_count[1] + by_count[2] = T and by_count[1] + 2 by_count[2] = sum(diagonal)."""
    body = get(client, overlapping.analyst, "overlaps", as_of=BOTH_DAY)
    by_count = body["by_count"]
    assert by_count.get("2") is None
    diagonal = [body["matrix"][p][p] for p in body["programmes"]]
    known = {"diagonal": None not in diagonal, "one": by_count.get("1") is not None}
    known["total"] = bool(published_totals(client, overlapping.analyst))
    # two equations among three in two unknowns fix by_count[2]
    assert sum(known.values()) < 2, known
