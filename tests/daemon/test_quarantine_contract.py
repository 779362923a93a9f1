"""End to end: a drop file whose rows carry columns outside the contract (a name, an address)
and a bad date of birth is polled by the daemon; the rejected rows are quarantined with their
contract fields and reasons only: no name or address anywhere in the quarantine table, and
no date of birth in the reasons that every user sees (the row's contract fields, shown to
admins only, keep it: it is what the feed must correct)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import create_engine, select

from custody_watch.store.schema import QuarantineRow

from .support import HEADER, Daemon

NAME, STREET, DOB = "Jonathan Example-Person", "12 Acacia Avenue", "01/06/2010"


def test_a_polled_file_leaves_no_unknown_column_or_personal_value_in_quarantine(
    make_daemon: Callable[..., Daemon],
) -> None:
    daemon = make_daemon()
    header = HEADER.rstrip("\n") + ",full_name,home_address\n"
    rows = (
        f"C-1,suite-a,2026-06-10T09:00:00+01:00,{DOB},pace_arrest,,,,,,P-1,{NAME},{STREET}\n"
        f"C-2,suite-a,2026-06-10T09:00:00,2011-03-01,pace_arrest,,,,,,P-2,{NAME},{STREET}\n"
    )
    (daemon.inbox / "day.csv").write_text(header + rows, encoding="utf-8")
    daemon.run_once("2026-06-10T11:00:00Z")

    url = daemon.config.read_text(encoding="utf-8").split('url = "', 1)[1].split('"', 1)[0]
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(
            select(QuarantineRow.row, QuarantineRow.error, QuarantineRow.raw).order_by(
                QuarantineRow.row
            )
        ).all()
    engine.dispose()
    assert [(row, error.split(":")[0]) for row, error, _raw in stored] == [
        (1, "date_of_birth"),
        (2, "arrival_time"),
    ]
    listed = daemon.cli("quarantine", "--format", "json")[1]
    everything = repr(stored) + listed
    for secret in (NAME, STREET, "full_name", "home_address"):
        assert secret not in everything
    assert DOB not in listed and all(DOB not in error for _row, error, _raw in stored)
    assert "C-1" in listed and "suite-a" in listed  # what finds the row stays
