"""A SQLite backup taken with ``db backup`` restores into a fresh file, and a daemon started
on it later resumes escalation where the backup left it: every timer is in the database."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from daemon.support import CONFIG, Daemon

from .support import cli

# A 15-year-old arrives at 09:00 BST; no appropriate adult is requested, so at 3h (11:00Z)
# appropriate_adult is high: inspector first, superintendent 15 minutes later.
CHILD = (
    "C-1,suite-a,2026-06-10T09:00:00+01:00,2011-03-01,pace_arrest,,,,,"
    "2026-06-10T09:00:00+01:00,P-77\n"
)
INSPECTOR = "To:      +447700900001"
SUPERINTENDENT = "To:      +447700900002"


def daemon_on(url: str, inbox: Path, capsys: pytest.CaptureFixture[str], name: str) -> Daemon:
    config = inbox.parent / f"{name}.toml"
    config.write_text(CONFIG.format(database=url, inbox=inbox), "utf-8")
    return Daemon(config, inbox, capsys)


def test_a_restored_backup_resumes_escalation_at_the_next_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CUSTODY_WATCH_TWILIO_AUTH_TOKEN", raising=False)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (tmp_path / "live").mkdir()
    live = daemon_on(f"sqlite:///{tmp_path / 'live' / 'cw.db'}", inbox, capsys, "live")
    live.drop("day.csv", CHILD)
    first = live.run_once("2026-06-10T11:00:00Z")
    assert INSPECTOR in first and SUPERINTENDENT not in first
    [alert] = live.alerts()

    backup = tmp_path / "backup" / "cw.db"
    backup.parent.mkdir()
    code, out, err = cli(capsys, "db", "backup", str(backup), "--config", str(live.config))
    assert code == 0, err
    assert out.startswith(f"backed up {tmp_path / 'live' / 'cw.db'} to {backup}")

    # The live file is lost; the backup is put in place on a new machine.
    shutil.rmtree(tmp_path / "live")
    (tmp_path / "restored").mkdir()
    shutil.copyfile(backup, tmp_path / "restored" / "cw.db")
    restored = daemon_on(f"sqlite:///{tmp_path / 'restored' / 'cw.db'}", inbox, capsys, "restored")

    later = restored.run_once("2026-06-10T11:16:00Z")  # level 1's 15 minutes are up

    assert SUPERINTENDENT in later
    assert INSPECTOR not in later  # level 1 is not repeated: the backup knew it was sent
    [same] = restored.alerts()
    assert (same["id"], same["ack_code"]) == (alert["id"], alert["ack_code"])


def test_backup_refuses_to_overwrite_and_names_pg_dump_for_postgresql(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "exists.db"
    target.write_text("", encoding="utf-8")
    config = tmp_path / "pg.toml"
    config.write_text('[database]\nurl = "postgresql+psycopg://cw@db/cw"\n', encoding="utf-8")

    code, _, err = cli(capsys, "db", "backup", str(target), "--config", str(config))
    assert code == 2
    assert "pg_dump" in err

    sqlite_config = tmp_path / "sqlite.toml"
    db = tmp_path / "cw.db"
    sqlite_config.write_text(f'[database]\nurl = "sqlite:///{db}"\n', encoding="utf-8")
    cli(capsys, "db", "upgrade", "--config", str(sqlite_config))
    code, _, err = cli(capsys, "db", "backup", str(target), "--config", str(sqlite_config))
    assert code == 2
    assert err.strip() == f"custody-watch: {target}: already exists; pass --force to overwrite it"


@pytest.mark.postgres
def test_a_pg_dump_restored_into_a_new_database_resumes_escalation(
    postgres_url: str,
    postgres_schema_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The README's PostgreSQL procedure: pg_dump --format=custom, pg_restore into a fresh
    database, start the daemon on it."""
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.fail("pg_dump and pg_restore come with the PostgreSQL server the tests need")
    monkeypatch.delenv("CUSTODY_WATCH_TWILIO_AUTH_TOKEN", raising=False)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    live = daemon_on(postgres_schema_url, inbox, capsys, "live")
    live.drop("day.csv", CHILD)
    assert INSPECTOR in live.run_once("2026-06-10T11:00:00Z")

    schema = postgres_schema_url.rsplit("search_path%3D", 1)[1]
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    dump = tmp_path / "cw.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", f"--schema={schema}", f"--file={dump}", plain],
        check=True,
        timeout=60,
    )
    database = f"restore_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
    try:
        base = plain.rsplit("/", 1)[0]
        subprocess.run(
            ["pg_restore", "--no-owner", f"--dbname={base}/{database}", str(dump)],
            check=True,
            timeout=60,
        )
        restored_url = (
            postgres_url.rsplit("/", 1)[0] + f"/{database}?options=-csearch_path%3D{schema}"
        )
        restored = daemon_on(restored_url, inbox, capsys, "restored")

        later = restored.run_once("2026-06-10T11:16:00Z")

        assert SUPERINTENDENT in later
        assert INSPECTOR not in later
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
