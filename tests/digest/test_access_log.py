"""A sent digest is a disclosure of each child's record it names (DPA 2018 s.62): one access
row per named child, by ``digest``, with the recipients it reached; a digest that reached
nobody discloses nothing and logs nothing; ``digest --send`` again logs again."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from custody_watch.digest.send import build_digest, named_refs, resend, send_due_digest
from custody_watch.notify.base import DeliveryError
from custody_watch.store.schema import AccessRow

from .scenario import scripted_day
from .support import make_store, t
from .test_send import Recorder


def accesses(store) -> list[AccessRow]:  # type: ignore[no-untyped-def]
    with store.sessions() as session:
        return list(session.scalars(select(AccessRow).order_by(AccessRow.id)))


def test_a_sent_digest_logs_each_child_it_names_with_its_recipients(tmp_path: Path) -> None:
    store = make_store(tmp_path, recipients=("supt-b", "chief-c"))
    scripted_day(store)
    email = Recorder()
    [outcome] = send_due_digest(
        store.sessions, store.settings, {"email": email}, "w1", t("2026-06-11T06:00:05Z")
    )
    assert outcome.state == "sent"
    rows = accesses(store)
    with store.sessions() as session:
        named = named_refs(
            build_digest(session, store.settings, outcome.day, t("2026-06-11T06:00:05Z")).figures
        )
    assert named and [r.custody_ref for r in rows] == named
    assert {(r.actor, r.what, r.address) for r in rows} == {
        ("digest", "digest sent", "supt-b, chief-c")
    }
    assert all(r.at == t("2026-06-11T06:00:05Z") for r in rows)
    assert all(ref in (email.sent[0].html or "") for ref in named)  # the mail names each


def test_a_digest_that_reached_nobody_logs_nothing(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    scripted_day(store)
    email = Recorder()
    email.fail = DeliveryError("mail server down", permanent=False)
    [outcome] = send_due_digest(
        store.sessions, store.settings, {"email": email}, "w1", t("2026-06-11T06:00:05Z")
    )
    assert outcome.state == "failed"
    assert accesses(store) == []


def test_a_resent_digest_is_logged_again(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    scripted_day(store)
    delivery = resend(
        store.sessions, store.settings, {"email": Recorder()}, t(SEVEN_DAY).date(), t(SENT_AT)
    )
    assert delivery.reached
    rows = accesses(store)
    assert rows and {(r.actor, r.address) for r in rows} == {("digest", "supt-b")}


def test_named_refs_takes_children_and_refused_bail_once_each() -> None:
    figures = {
        "children": [{"custody_ref": "C-1"}, {"custody_ref": "C-2"}],
        "charged_refused_bail_children": [{"custody_ref": "C-2"}, {"custody_ref": "C-9"}],
    }
    assert named_refs(figures) == ["C-1", "C-2", "C-9"]
    assert named_refs(None) == [] and named_refs({}) == []


SEVEN_DAY = "2026-06-11T00:00:00Z"
SENT_AT = "2026-06-11T09:00:00Z"
