"""A handful of persons to search for: look-alikes, two regions, two programmes.

* SOEREN  Søren Kierkegaard, born 1985-03-11, CPR 1103851234, region 1084 (SEL85, SEL104)
* METTE   Mette Kierkegaard, born 1985-03-11, region 1084 (same family and birth date)
* ANNA    Anna Jensen, born 1990-07-04, CPR 0407901234, region 1085 only (SEL104)
* TWIN    Søren Kierkegaard, born 1985-03-11, CPR 1103855678, region 1085 only (SEL104):
          the in-scope SOEREN's exact look-alike, outside region 1084
* REGINE  Regine Olsen, born 1987-01-23, no national ID, region 1084 (SEL85)
* OTHERS  ten Jensens born in 1990, region 1084 (SEL85)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.api.conftest import Setup
from tests.factories import bearer, record

SOEREN_ID = "1103851234"
ANNA_ID = "0407901234"
TWIN_ID = "1103855678"
#: A valid CPR number nobody holds.
NOBODY_ID = "0102031234"


@dataclass(frozen=True)
class People:
    """The person ids of the population, by name."""

    soeren: str
    mette: str
    anna: str
    twin: str
    regine: str


def _record(
    source: str, nid: str | None, given: str, family: str, born: str, region: str, **extra: Any
) -> dict[str, Any]:
    return record(
        source,
        national_id=nid,
        given_name=given,
        family_name=family,
        birth_date=born,
        region=region,
        municipality="157" if region == "1084" else "851",
        mother_name=extra.pop("mother_name", None),
        sex=extra.pop("sex", "M"),
        enrolment={
            "benefit_code": extra.pop("benefit", "1.12.0.2"),
            "target_group": extra.pop("group", "1.2.2"),
            "start_date": "2024-01-01",
        },
        **extra,
    )


def _push(client: TestClient, token: str, programme: str, batch: str, records: list[Any]) -> Any:
    response = client.post(
        f"/api/v1/programmes/{programme}/batches",
        json={"batch_id": batch, "records": records},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rejected"] == 0, body
    return body


def add_people(client: TestClient, setup: Setup, engine: Engine) -> People:
    """Feed the population through the API; the person ids by name."""
    sel85 = [
        _record("S1", SOEREN_ID, "Søren", "Kierkegaard", "1985-03-11", "1084"),
        _record("M1", "1103854321", "Mette", "Kierkegaard", "1985-03-11", "1084", sex="F"),
        _record("R1", None, "Regine", "Olsen", "1987-01-23", "1084", sex="F"),
        *(
            _record(
                f"J{i}",
                f"{i + 1:02d}0190{2000 + i}",
                "Jens",
                "Jensen",
                f"1990-01-{i + 1:02d}",
                "1084",
            )
            for i in range(10)
        ),
    ]
    sel104 = [
        _record(
            "B1",
            SOEREN_ID,
            "Søren",
            "Kierkegaard",
            "1985-03-11",
            "1084",
            benefit="1.1",
            group="1.1.1",
        ),
        _record(
            "B2",
            ANNA_ID,
            "Anna",
            "Jensen",
            "1990-07-04",
            "1085",
            sex="F",
            benefit="1.1",
            group="1.1.1",
        ),
        _record(
            "B3",
            TWIN_ID,
            "Søren",
            "Kierkegaard",
            "1985-03-11",
            "1085",
            benefit="1.1",
            group="1.1.1",
        ),
    ]
    _push(client, setup.sel85, "SEL85", "p1", sel85)
    _push(client, setup.sel104, "SEL104", "p2", sel104)
    with engine.connect() as conn:
        links = dict(
            conn.execute(
                text(
                    "SELECT source_id, person_id::text FROM source_record "
                    "WHERE source_id IN ('S1', 'M1', 'B2', 'B3', 'R1')"
                )
            ).all()
        )
    return People(
        soeren=links["S1"],
        mette=links["M1"],
        anna=links["B2"],
        twin=links["B3"],
        regine=links["R1"],
    )
