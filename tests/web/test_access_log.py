"""The access log from the web side: viewing a detention's page, its alert's timeline or its
API record writes a row (user, ref, what, client address) that ``custody-watch access-log``
prints; an admin page lists them, and nobody else may see it."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from cli.support import cli
from custody_watch.store.schema import AccessRow

from .support import PASSWORD, T0, Site


def rows(site: Site) -> list[AccessRow]:
    with site.ctx.sessions() as session:
        return list(session.scalars(select(AccessRow).order_by(AccessRow.id)))


def config_file(tmp_path: Path) -> str:
    path = tmp_path / "access.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "cw.db"}"\n', encoding="utf-8")
    return str(path)


def test_a_detention_page_viewed_is_in_the_access_log_json(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site.add_user("insp-a", "inspector", "insp-a")
    site.login("insp-a")
    assert site.client.get("/detentions/C-1").status_code == 200

    code, out, err = cli(
        capsys, "access-log", "--config", config_file(tmp_path), "--format", "json"
    )
    assert code == 0, err
    assert json.loads(out) == {
        "accesses": [
            {
                "at": "2026-01-14T10:00:00Z",
                "user": "insp-a",
                "custody_ref": "C-1",
                "what": "detention page",
                "from": "testclient",
            }
        ]
    }


def test_the_command_filters_by_ref_user_and_since(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import timedelta

    site.login("alice")
    site.client.get("/detentions/C-1")
    site.clock.advance(timedelta(minutes=5))
    site.client.get("/detentions/C-2")
    config = config_file(tmp_path)

    def refs(*args: str) -> list[str]:
        code, out, err = cli(capsys, "access-log", "--config", config, "--format", "json", *args)
        assert code == 0, err
        return [a["custody_ref"] for a in json.loads(out)["accesses"]]

    assert refs() == ["C-1", "C-2"]
    assert refs("--ref", "C-2") == ["C-2"]
    assert refs("--user", "alice") == ["C-1", "C-2"]
    assert refs("--user", "victor") == []
    assert refs("--since", "2026-01-14T10:01:00Z") == ["C-2"]
    code, out, _err = cli(capsys, "access-log", "--config", config)
    assert code == 0 and "detention page" in out and "alice" in out
    code, _out, err = cli(capsys, "access-log", "--config", config, "--since", "yesterday")
    assert code == 2 and err.startswith("custody-watch: --since:")


def test_an_unknown_ref_and_a_failed_login_log_nothing(site: Site) -> None:
    assert site.client.get("/detentions/C-1", follow_redirects=False).status_code == 303
    site.login("alice")
    assert site.client.get("/detentions/NOPE").status_code == 404
    assert rows(site) == []


def test_the_api_record_and_alert_timelines_are_logged(site: Site) -> None:
    basic = base64.b64encode(f"victor:{PASSWORD}".encode()).decode()
    headers = {"Authorization": f"Basic {basic}"}
    assert site.client.get("/api/detentions/C-1", headers=headers).status_code == 200
    alert_id = site.alert().id
    assert site.client.get(f"/api/alerts/{alert_id}", headers=headers).status_code == 200
    assert site.client.get("/api/detentions", headers=headers).status_code == 200
    site.login("alice")
    assert site.client.get(f"/alerts/{alert_id}").status_code == 200
    assert [(r.actor, r.custody_ref, r.what) for r in rows(site)] == [
        ("victor", "C-1", "api record"),
        ("victor", "C-1", "api alert timeline"),
        ("alice", "C-1", "alert timeline"),
    ]
    assert all(r.at == T0 for r in rows(site))


def test_only_admins_see_the_access_log_page(site: Site) -> None:
    site.add_user("root", "admin")
    site.login("alice")
    site.client.get("/detentions/C-1")
    assert site.client.get("/access-log").status_code == 403
    site.client.post("/logout")
    site.client.cookies.clear()
    site.login("root")
    page = site.client.get("/access-log")
    assert page.status_code == 200
    assert "alice" in page.text and "detention page" in page.text and "C-1" in page.text
    assert "alice" not in site.client.get("/access-log?ref=C-2").text
    assert site.client.get("/access-log?since=nonsense").status_code == 400
