"""GET/POST /api/v1/codelists: the shipped lists served, admin loads versioned lists, limits."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from registry.codelists.entries import MAX_STATUS_WORD, OWNER_PATTERN
from registry.programmes.codes import PROGRAMME_CODE_PATTERN
from registry.records.fields import by_name
from tests.codelists.conftest import People, load
from tests.factories import bearer, client_token, make_client, make_programme


def test_shipped_lists_are_served_to_every_signed_in_role(
    engine: Engine, client: TestClient, people: People
) -> None:
    make_programme(engine, "SEL85", ["1.12.0.2"])
    feed = client_token(client, *make_client(engine, "SEL85"))
    for token in (people.analyst, people.oversight, people.admin, feed):
        answer = client.get("/api/v1/codelists", headers=bearer(token))
        assert answer.status_code == 200, answer.text
        lists = {row["name"]: row for row in answer.json()}
        assert {"l402_benefits", "l402_target_groups", "dst_regions", "dst_municipalities"} <= set(
            lists
        )
        assert lists["l402_benefits"]["kind"] == "benefit"
        assert lists["l402_benefits"]["owner"] is None
        assert lists["dst_municipalities"]["entries"] == 98
    benefits = client.get("/api/v1/codelists/l402_benefits", headers=bearer(feed)).json()
    by_code = {e["code"]: e for e in benefits["entries"]}
    assert by_code["1.1"]["attributes"] == {"paragraph": "§ 104"}
    assert by_code["1.1"]["valid_from"] == "2018-01-01"
    assert by_code["1.1"]["valid_to"] is None
    assert benefits["version"] == benefits["latest_version"] == 1
    regions = client.get("/api/v1/codelists/dst_regions", headers=bearer(feed)).json()
    assert {e["code"] for e in regions["entries"]} == {"1081", "1082", "1083", "1084", "1085"}
    assert client.get("/api/v1/codelists").status_code == 401


def test_loading_again_makes_a_version_and_old_versions_stay_readable(
    engine: Engine, client: TestClient, people: People
) -> None:
    first = load(
        client,
        people.admin,
        "ngo1_benefits",
        "benefit",
        "NGO1",
        [{"code": "X.FOOD", "description": "Food parcel", "valid_to": "2019-12-31"}],
    )
    assert first.status_code == 201, first.text
    assert (first.json()["version"], first.json()["entries"]) == (1, 1)
    second = load(
        client,
        people.admin,
        "ngo1_benefits",
        "benefit",
        "NGO1",
        [
            {"code": "X.FOOD", "description": "Food parcel", "valid_to": "2019-12-31"},
            {"code": "X.FOOD", "description": "Food box", "valid_from": "2020-01-01"},
            {"code": "X.SHELTER", "valid_from": "2020-01-01"},
        ],
    )
    assert second.json()["version"] == 2, second.text
    url = "/api/v1/codelists/ngo1_benefits"
    current = client.get(url, headers=bearer(people.analyst)).json()
    assert (current["version"], len(current["entries"])) == (2, 3)
    old = client.get(url, params={"version": 1}, headers=bearer(people.analyst)).json()
    assert (old["version"], old["latest_version"]) == (1, 2)
    assert [e["description"] for e in old["entries"]] == ["Food parcel"]
    in_2019 = client.get(url, params={"as_of": "2019-06-01"}, headers=bearer(people.analyst))
    assert [e["description"] for e in in_2019.json()["entries"]] == ["Food parcel"]
    in_2021 = client.get(url, params={"as_of": "2021-06-01"}, headers=bearer(people.analyst))
    assert [(e["code"], e["description"]) for e in in_2021.json()["entries"]] == [
        ("X.FOOD", "Food box"),
        ("X.SHELTER", ""),
    ]
    missing = client.get(url, params={"version": 3}, headers=bearer(people.analyst))
    assert missing.status_code == 404
    with engine.connect() as conn:
        events = conn.execute(
            text("SELECT actor, detail FROM audit_event WHERE action = 'codelist.load' ORDER BY id")
        ).all()
    assert [e.detail["version"] for e in events] == [1, 2]
    assert events[0].detail["list"] == "ngo1_benefits" and events[0].actor.startswith("user:")


def test_a_status_map_is_loaded_from_a_csv_upload(client: TestClient, people: People) -> None:
    data = b"code,description,status\nexited,left,ended\nenrolled,in,active\n"
    answer = client.post(
        "/api/v1/codelists/upload",
        files={"file": ("status.csv", data, "text/csv")},
        data={"name": "ngo1_statuses", "kind": "status_map", "owner": "NGO1"},
        headers=bearer(people.admin),
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["source"] == "status.csv"
    held = client.get("/api/v1/codelists/ngo1_statuses", headers=bearer(people.admin)).json()
    assert {e["code"]: e["attributes"] for e in held["entries"]} == {
        "exited": {"status": "ended"},
        "enrolled": {"status": "active"},
    }


def test_the_shipped_csv_itself_loads_as_the_next_version(
    client: TestClient, people: People
) -> None:
    from registry.codelists.loader import _DIR

    data = (_DIR / "l402_benefits.csv").read_bytes()
    answer = client.post(
        "/api/v1/codelists/upload",
        files={"file": ("l402_benefits.csv", data, "text/csv")},
        data={"name": "l402_benefits", "kind": "benefit"},
        headers=bearer(people.admin),
    )
    assert answer.status_code == 201, answer.text
    assert (answer.json()["version"], answer.json()["entries"]) == (2, 13)


def _rules(answer: object) -> set[tuple[str, str]]:
    body = answer.json()  # type: ignore[attr-defined]
    return {(e["field"], e.get("rule") or e.get("code")) for e in body["errors"]}


def test_refusals_name_the_field_and_the_rule(client: TestClient, people: People) -> None:
    bad_map = load(
        client,
        people.admin,
        "ngo1_statuses",
        "status_map",
        "NGO1",
        [
            {"code": "exited", "attributes": {"status": "gone"}},
            {"code": "active", "attributes": {"status": "ended"}},
            {"code": "left_the_programme", "attributes": {"status": "ended"}},
        ],
    )
    assert bad_map.status_code == 422
    assert _rules(bad_map) == {
        ("entries[0].attributes.status", "status_target"),
        ("entries[1].code", "registry_status"),
        ("entries[2].code", "max_length"),
    }
    overlapping = load(
        client,
        people.admin,
        "ngo1_benefits",
        "benefit",
        "NGO1",
        [
            {"code": "X.FOOD", "valid_from": "2020-01-01"},
            {"code": "X.FOOD", "valid_from": "2021-01-01"},
        ],
    )
    assert _rules(overlapping) == {("entries[1].code", "duplicate_code")}
    backwards = load(
        client,
        people.admin,
        "ngo1_benefits",
        "benefit",
        "NGO1",
        [{"code": "X.FOOD", "valid_from": "2021-01-01", "valid_to": "2020-01-01"}],
    )
    assert _rules(backwards) == {("entries[0].valid_to", "before_valid_from")}
    bad_code = load(client, people.admin, "ngo1_benefits", "benefit", "NGO1", [{"code": "X FOOD"}])
    assert _rules(bad_code) == {("entries[0].code", "invalid_code")}
    assert (
        load(
            client, people.admin, "ngo1_benefits", "benefit", "NGO1", [{"code": "X.A"}]
        ).status_code
        == 201
    )
    other_owner = load(client, people.admin, "ngo1_benefits", "benefit", "NGO2", [{"code": "X.A"}])
    assert other_owner.status_code == 409
    assert _rules(other_owner) == {("name", "list_kind_owner")}
    bad_name = load(client, people.admin, "Bad Name", "benefit", None, [{"code": "X.A"}])
    assert bad_name.status_code == 422 and "name" in {f for f, _ in _rules(bad_name)}
    no_code_column = client.post(
        "/api/v1/codelists/upload",
        files={"file": ("x.csv", b"kode,beskrivelse\nA,B\n", "text/csv")},
        data={"name": "x_list", "kind": "benefit"},
        headers=bearer(people.admin),
    )
    assert no_code_column.status_code == 422 and _rules(no_code_column) == {("file", "columns")}


def test_a_list_owner_follows_the_one_programme_code_rule() -> None:
    assert OWNER_PATTERN == PROGRAMME_CODE_PATTERN
    assert by_name("status").limit == MAX_STATUS_WORD
