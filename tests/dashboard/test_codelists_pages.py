"""The code-list pages over HTTP: the lists, a list's versions and dates, a CSV upload (refusals
naming the field, the rule and the row), a programme's edit form and history; admins only."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.dashboard.conftest import World
from tests.dashboard.test_admin_pages import HTML, SAME, rules, sign_in

NGO_CSV = (
    b"code,description,valid_from,valid_to\nX.FOOD,Food parcel,2020-01-01,\nX.OLD,Old,,2019-12-31\n"
)


def _upload(
    client: TestClient,
    data: bytes,
    name: str = "ngo1_benefits",
    kind: str = "benefit",
    owner: str = "NGO1",
    lang: str = "en",
) -> object:
    return client.post(
        f"/dashboard/codelists?lang={lang}",
        files={"file": ("ngo1.csv", data, "text/csv")},
        data={"name": name, "kind": kind, "owner": owner},
        headers={**SAME, **HTML},
        follow_redirects=False,
    )


def test_an_admin_sees_the_lists_and_loads_one_from_a_csv(
    client: TestClient, world: World, engine: Engine
) -> None:
    sign_in(client, "admin")
    page = client.get("/dashboard/codelists", headers=HTML)
    assert page.status_code == 200
    assert (
        'data-name="l402_benefits"' in page.text and 'data-name="dst_municipalities"' in page.text
    )
    assert 'id="nav-codelists"' in page.text
    loaded = _upload(client, NGO_CSV)
    assert loaded.status_code == 303, loaded.text  # type: ignore[attr-defined]
    shown = client.get(loaded.headers["location"], headers=HTML).text  # type: ignore[attr-defined]
    assert 'id="notice"' in shown and 'data-code="X.FOOD"' in shown and 'data-code="X.OLD"' in shown
    as_of = client.get("/dashboard/codelists/ngo1_benefits?as_of=2021-01-01", headers=HTML).text
    assert 'data-code="X.FOOD"' in as_of and 'data-code="X.OLD"' not in as_of
    # again: version 2, and version 1 stays readable
    assert _upload(client, b"code\nX.FOOD\n").status_code == 303  # type: ignore[attr-defined]
    first = client.get("/dashboard/codelists/ngo1_benefits?version=1", headers=HTML).text
    assert 'id="version">1<' in first and 'data-code="X.OLD"' in first
    with engine.connect() as conn:
        versions = (
            conn.execute(
                text(
                    "SELECT detail ->> 'version' FROM audit_event "
                    "WHERE action = 'codelist.load' ORDER BY id"
                )
            )
            .scalars()
            .all()
        )
    assert versions == ["1", "2"]


def test_a_refused_upload_names_field_rule_and_row_in_danish(
    client: TestClient, world: World
) -> None:
    sign_in(client, "admin")
    bad = _upload(
        client,
        b"code,status\nexited,gone\nX.FOOD,ended\n",
        name="ngo1_statuses",
        kind="status_map",
        lang="da",
    )
    assert bad.status_code == 422  # type: ignore[attr-defined]
    html = bad.text  # type: ignore[attr-defined]
    assert rules(html) == {"file": "status_target"}
    assert "række 2: et statusord skal svare til" in html and 'lang="da"' in html
    assert 'value="ngo1_statuses"' in html
    bad_name = _upload(client, NGO_CSV, name="Bad Name")
    assert bad_name.status_code == 422 and rules(bad_name.text) == {"name": "list_name"}  # type: ignore[attr-defined]
    no_file = client.post(
        "/dashboard/codelists",
        data={"name": "x_list", "kind": "benefit"},
        headers={**SAME, **HTML},
    )
    assert no_file.status_code == 422 and rules(no_file.text) == {"file": "required"}
    foreign = client.post(
        "/dashboard/codelists",
        files={"file": ("x.csv", NGO_CSV, "text/csv")},
        data={"name": "x_list", "kind": "benefit"},
        headers={"Origin": "http://elsewhere.example", **HTML},
    )
    assert foreign.status_code == 403


def test_an_admin_edits_a_programme_and_sees_its_history(
    client: TestClient, world: World, engine: Engine
) -> None:
    sign_in(client, "admin")
    programmes = client.get("/dashboard/admin/programmes", headers=HTML).text
    assert "/dashboard/admin/programmes/SEL85?" in programmes
    refused = client.post(
        "/dashboard/admin/programmes/SEL85?lang=da",
        data={"name": "Støtte", "agency": "", "benefit_codes": "X.FOOD", "trust_rank": "3"},
        headers={**SAME, **HTML},
    )
    assert refused.status_code == 422 and rules(refused.text) == {"benefit_codes": "benefit_codes"}
    assert "egne lister" in refused.text
    _upload(client, NGO_CSV, name="sel85_own", owner="SEL85")
    saved = client.post(
        "/dashboard/admin/programmes/SEL85",
        data={
            "name": "Socialpædagogisk støtte",
            "agency": "Kommune",
            "benefit_codes": "1.12.0.1, X.FOOD",
            "trust_rank": "3",
        },
        headers={**SAME, **HTML},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    page = client.get(saved.headers["location"], headers=HTML).text
    assert 'id="notice"' in page
    assert re.findall(r'data-version="(\d+)"', page) == ["2", "1"]
    assert "1.12.0.1, X.FOOD" in page
    with engine.connect() as conn:
        updates = conn.execute(
            text("SELECT count(*) FROM audit_event WHERE action = 'programme.update'")
        )
        assert updates.scalar_one() == 1
    assert client.get("/dashboard/admin/programmes/NOPE", headers=HTML).status_code == 404


def test_other_roles_cannot_open_or_post_the_pages(client: TestClient, world: World) -> None:
    for username in ("oversight", "analyst"):
        client.cookies.clear()
        sign_in(client, username)
        assert client.get("/dashboard/codelists", headers=HTML).status_code == 403
        assert client.get("/dashboard/codelists/l402_benefits", headers=HTML).status_code == 403
        assert client.get("/dashboard/admin/programmes/SEL85", headers=HTML).status_code == 403
        assert _upload(client, NGO_CSV).status_code == 403  # type: ignore[attr-defined]
        edit = client.post(
            "/dashboard/admin/programmes/SEL85",
            data={"name": "x", "benefit_codes": "1.1", "trust_rank": "100"},
            headers={**SAME, **HTML},
        )
        assert edit.status_code == 403
