"""Pages due to one person on one channel within ``[notify] bundle_window`` go as one SMS
and one email listing each alert with its code; on SQLite and PostgreSQL, and with two
dispatchers draining at once (a bundle is claimed whole, by one of them, once)."""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from alerts.support import (
    INSP_A,
    T0,
    M,
    Store,
    audit_events,
    escalate_due,
    finding,
    make_context,
    make_store,
    sync,
)
from custody_watch.alerts import ack
from custody_watch.alerts.delivery import AlertDelivery
from custody_watch.alerts.deps import AlertDeps
from custody_watch.dispatch.sender import Dispatcher
from custody_watch.domain import Severity
from custody_watch.store.db import make_engine, make_sessionmaker
from custody_watch.store.migrate import upgrade
from custody_watch.store.schema import AlertRow, OutboxRow

from .channels import RecordingChannel

WINDOW = timedelta(seconds=60)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        store = make_store(tmp_path / "b.db")
    else:
        engine = make_engine(request.getfixturevalue("postgres_schema_url"))
        upgrade(engine)
        store = Store(engine, make_sessionmaker(engine))
    yield store
    store.engine.dispose()


def bundling() -> AlertDeps:
    return replace(make_context(), bundle_window=WINDOW)


def open_alerts(store: Store, ctx: AlertDeps, refs, at=T0) -> list[str]:
    with store.sessions.begin() as session:
        codes = []
        for ref in refs:
            alert = sync(session, ctx, at, [finding(Severity.HIGH, ref=ref)], ref=ref)
            assert alert is not None
            codes.append(alert.ack_code)
        return codes


def dispatcher(store: Store, ctx: AlertDeps, sms, email, worker="w-a"):
    return Dispatcher(
        sessions=store.sessions,
        channels={"sms": sms, "email": email},
        alerts=AlertDelivery(ctx),
        worker=worker,
        rng=random.Random(1),
    )


def rows(store: Store) -> list[OutboxRow]:
    with store.sessions() as session:
        return list(session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def test_five_pages_to_one_person_go_as_one_sms_and_one_email(any_store: Store, renderer):
    ctx = bundling()
    codes = open_alerts(any_store, ctx, [f"C-{n}" for n in range(5)])
    sms, email = RecordingChannel("sms", "phone"), RecordingChannel("email", "email")
    dispatcher(any_store, ctx, sms, email).run(T0)

    assert len(sms.sent) == 1 and len(email.sent) == 1
    text = sms.sent[0].text
    assert text.startswith("custody-watch: 5 alerts.") and text.endswith("ACK ALL")
    assert all(f"ACK {code}" in email.sent[0].text for code in codes)
    assert email.sent[0].subject.startswith("[HIGH] 5 custody-watch alerts - ack ")
    done = rows(any_store)
    assert {r.state for r in done} == {"sent"} and len(done) == 10
    # Each row keeps the message that went, and the provider's id for its callbacks.
    assert {r.body_text for r in done if r.channel == "sms"} == {text}
    assert len({r.provider_id for r in done if r.channel == "sms"}) == 1


def test_a_page_outside_the_window_goes_on_its_own(any_store: Store, renderer) -> None:
    ctx = bundling()
    sms, email = RecordingChannel("sms", "phone"), RecordingChannel("email", "email")
    send = dispatcher(any_store, ctx, sms, email)
    open_alerts(any_store, ctx, ["C-1"])
    send.run(T0)
    [later] = open_alerts(any_store, ctx, ["C-2"], at=T0 + 2 * M)
    send.run(T0 + 2 * M)
    assert len(sms.sent) == 2
    assert sms.sent[1].text.endswith(f"Reply ACK {later}")  # a page alone, as ever


def test_an_alert_acknowledged_before_the_send_is_left_out_of_the_bundle(
    any_store: Store, renderer
) -> None:
    ctx = bundling()
    codes = open_alerts(any_store, ctx, ["C-1", "C-2", "C-3"])
    with any_store.sessions.begin() as session:
        assert ack.acknowledge(session, codes[0], INSP_A.id, ctx, T0).ok
    sms, email = RecordingChannel("sms", "phone"), RecordingChannel("email", "email")
    dispatcher(any_store, ctx, sms, email).run(T0)
    [bundle] = sms.sent
    assert bundle.text.startswith("custody-watch: 2 alerts.")
    assert f"ACK {codes[0]}" not in bundle.text
    assert f"ACK {codes[1]}" in bundle.text and f"ACK {codes[2]}" in bundle.text


def test_a_bundle_that_fails_is_retried_whole_and_each_page_records_its_try(
    any_store: Store, renderer
) -> None:
    ctx = bundling()
    open_alerts(any_store, ctx, ["C-1", "C-2"])
    sms, email = RecordingChannel("sms", "phone"), RecordingChannel("email", "email")
    sms.fail_next(1, permanent=False)
    send = dispatcher(any_store, ctx, sms, email)
    send.run(T0)
    assert sms.sent == []
    assert {r.state for r in rows(any_store) if r.channel == "sms"} == {"pending"}
    send.run(T0 + 10 * M)
    assert len(sms.sent) == 1 and sms.sent[0].text.startswith("custody-watch: 2 alerts.")
    assert {r.attempts for r in rows(any_store) if r.channel == "sms"} == {2}


def test_two_dispatchers_send_a_bundle_once_and_never_split_it(any_store: Store, renderer) -> None:
    ctx = bundling()
    codes = open_alerts(any_store, ctx, [f"C-{n:02d}" for n in range(30)])
    sms, email = RecordingChannel("sms", "phone"), RecordingChannel("email", "email")
    url = any_store.engine.url.render_as_string(hide_password=False)
    engines = [make_engine(url) for _ in range(2)]
    workers = [
        Dispatcher(
            sessions=make_sessionmaker(engine),
            channels={"sms": sms, "email": email},
            alerts=AlertDelivery(ctx),
            worker=f"w-{n}",
            rng=random.Random(n),
        )
        for n, engine in enumerate(engines)
    ]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(worker: Dispatcher) -> None:
        try:
            start.wait(timeout=20)
            for _ in range(20):
                worker.run(T0, batch=10)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for engine in engines:
        engine.dispose()
    assert errors == []
    assert len(sms.sent) == 1 and len(email.sent) == 1
    listed = re.findall(r"ACK (\d+)", email.sent[0].text)
    assert sorted(set(listed)) == sorted(codes)
    assert {r.state for r in rows(any_store)} == {"sent"}
    with any_store.sessions() as session:
        assert {a.state for a in session.scalars(select(AlertRow))} == {"open"}


def test_an_escalation_and_a_repeat_of_one_alert_waiting_together_are_said_once(
    any_store: Store, renderer
) -> None:

    ctx = bundling()
    [first, second] = open_alerts(any_store, ctx, ["C-1", "C-2"])
    sms, email = RecordingChannel("sms", "phone"), RecordingChannel("email", "email")
    send = dispatcher(any_store, ctx, sms, email)
    send.run(T0)
    # Level 2 at 15m and its first repeat at 45m both wait (a provider outage) until 50m.
    for at in (T0 + 15 * M, T0 + 45 * M):
        with any_store.sessions.begin() as session:
            for alert in session.scalars(select(AlertRow)):
                escalate_due(session, alert, ctx, at)
    send.run(T0 + 50 * M)
    to_supt = [s for s in sms.sent if s.to != INSP_A.phone]
    assert len(to_supt) == 1
    text = to_supt[0].text
    assert text.startswith("custody-watch: 2 alerts.")
    assert text.count(f"ACK {first}") == 1 and text.count(f"ACK {second}") == 1
    assert "REPEAT 2" in text


class CallbackFirst(RecordingChannel):
    """Twilio's "undelivered" callback for a bundle lands (on its first page, which the
    callback URL names) before the dispatcher has recorded the send on the other pages."""

    def __init__(self, store: Store) -> None:
        super().__init__("sms", "phone")
        self.store = store

    def send(self, message):  # type: ignore[no-untyped-def]
        receipt = super().send(message)
        with self.store.sessions.begin() as session:
            lead = session.get(OutboxRow, int(message.reference))
            assert lead is not None
            lead.provider_id, lead.provider_status, lead.error_code = (
                receipt.provider_id,
                "undelivered",
                "30003",
            )
            lead.last_error, lead.state = "Twilio: undelivered (error 30003)", "failed"
        return receipt


def test_a_bundle_reported_undelivered_before_its_send_was_recorded_fails_every_page(
    any_store: Store, renderer
) -> None:
    ctx = bundling()
    open_alerts(any_store, ctx, ["C-1", "C-2", "C-3"])
    sms = CallbackFirst(any_store)
    dispatcher(any_store, ctx, sms, RecordingChannel("email", "email")).run(T0)

    assert len(sms.sent) == 1
    carried = [r for r in rows(any_store) if r.channel == "sms"]
    assert len(carried) == 3
    assert {(r.state, r.provider_status, r.error_code) for r in carried} == {
        ("failed", "undelivered", "30003")
    }
    with any_store.sessions() as session:
        for row in carried[1:]:  # the pages the callback did not name fell back as their own
            assert "send_failed" in audit_events(session, row.alert_id)
