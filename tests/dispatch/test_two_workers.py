"""Two dispatchers with different worker ids, each with its own engine, draining one outbox
at the same time from two threads: every row is sent exactly once, none twice. On PostgreSQL
the claim locks candidates with SKIP LOCKED; on SQLite (a WAL file) it relies on the
conditional UPDATE alone."""

from __future__ import annotations

import random
import threading
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, select, text

from alerts.support import T0, finding, make_context, sync
from custody_watch.alerts.delivery import AlertDelivery
from custody_watch.alerts.deps import AlertDeps
from custody_watch.dispatch.claim import claim_due
from custody_watch.dispatch.sender import Dispatcher
from custody_watch.domain import Severity
from custody_watch.messages.render import Renderer
from custody_watch.notify.base import AddressKind, Message, Receipt
from custody_watch.store.db import make_engine, make_sessionmaker
from custody_watch.store.migrate import upgrade
from custody_watch.store.schema import OutboxRow

from .channels import RecordingChannel

DETENTIONS = 100  # two messages each (SMS and email to the duty inspector): 200 rows
WORKERS = ("worker-a", "worker-b")


class RendezvousChannel(RecordingChannel):
    """Each worker's first send waits until the other worker is also mid-batch, so the two
    are known to hold claims at the same time (no sleeping, no luck)."""

    def __init__(self, name: str, address_kind: AddressKind, meeting: threading.Barrier) -> None:
        super().__init__(name, address_kind)
        self._meeting = meeting
        self._met = threading.local()

    def send(self, message: Message) -> Receipt:
        if not getattr(self._met, "done", False):
            self._met.done = True
            self._meeting.wait(timeout=20)
        return super().send(message)


def queue_pages(engine: Engine, ctx: AlertDeps) -> set[str]:
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        for n in range(DETENTIONS):
            ref = f"C-{n:03d}"
            sync(session, ctx, T0, [finding(Severity.HIGH, ref=ref)], ref=ref)
    with sessions() as session:
        return {str(i) for i in session.scalars(select(OutboxRow.id))}


def pending(dispatcher: Dispatcher) -> int:
    with dispatcher.sessions() as session:
        rows = session.scalars(select(OutboxRow.id).where(OutboxRow.state == "pending"))
        return len(rows.all())


def drain_with_two_workers(url: str, renderer: Renderer) -> None:
    ctx = make_context()
    setup = make_engine(url)
    upgrade(setup)
    queued = queue_pages(setup, ctx)
    assert len(queued) == 2 * DETENTIONS

    # Each worker's first row is an SMS; its send waits there for the other worker's.
    meeting = threading.Barrier(len(WORKERS))
    sms = RendezvousChannel("sms", "phone", meeting)
    email = RecordingChannel("email", "email")
    engines = [make_engine(url) for _ in WORKERS]
    dispatchers = [
        Dispatcher(
            sessions=make_sessionmaker(engine),
            channels={"sms": sms, "email": email},
            alerts=AlertDelivery(ctx),
            worker=worker,
            rng=random.Random(n),
        )
        for n, (worker, engine) in enumerate(zip(WORKERS, engines, strict=True))
    ]
    start = threading.Barrier(len(WORKERS))
    errors: list[BaseException] = []

    def work(dispatcher: Dispatcher) -> None:
        # As the daemon does, cycle after cycle: ``run`` may return early when the other
        # worker won the claim for every candidate it looked at (SQLite has no SKIP LOCKED).
        try:
            start.wait(timeout=20)
            for _ in range(100):
                dispatcher.run(T0, batch=10, max_batches=100)
                if not pending(dispatcher):
                    break
        except BaseException as exc:  # reported below, with the thread's name
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(d,), name=d.worker) for d in dispatchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert not [t.name for t in threads if t.is_alive()], "a worker did not finish"
        assert errors == []

        sent = sms.references() + email.references()
        assert sms.duplicates() == email.duplicates() == {}
        assert len(sent) == len(set(sent)) == len(queued)
        assert set(sent) == queued

        with make_sessionmaker(setup)() as session:
            done = session.execute(select(OutboxRow.state, OutboxRow.claimed_by)).all()
        assert {state for state, _ in done} == {"sent"}
        by_worker = Counter(worker for _, worker in done)
        assert set(by_worker) == set(WORKERS)  # both took part
        assert sum(by_worker.values()) == len(queued)
    finally:
        for engine in (*engines, setup):
            engine.dispose()


def test_two_workers_on_a_sqlite_file_send_every_row_exactly_once(
    tmp_path: Path, renderer: Renderer
):
    url = f"sqlite:///{tmp_path}/t.db"
    probe = make_engine(url)
    with probe.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    probe.dispose()
    drain_with_two_workers(url, renderer)


@pytest.mark.postgres
def test_two_workers_on_postgresql_send_every_row_exactly_once(
    postgres_schema_url: str, renderer: Renderer
):
    drain_with_two_workers(postgres_schema_url, renderer)


def test_a_worker_that_loses_one_claim_race_on_sqlite_still_sends_the_rest(
    tmp_path: Path, renderer: Renderer
):
    """The race made deterministic: worker A claims (and commits) between worker B's
    SELECT of candidates and B's conditional UPDATEs, as two daemons do on one file."""
    url = f"sqlite:///{tmp_path}/t.db"
    ctx = make_context()
    setup = make_engine(url)
    upgrade(setup)
    queued = queue_pages(setup, ctx)
    engine_a, engine_b = make_engine(url), make_engine(url)
    sms, email = RecordingChannel("sms", "phone"), RecordingChannel("email", "email")

    def dispatcher(worker: str, engine: Engine) -> Dispatcher:
        return Dispatcher(
            sessions=make_sessionmaker(engine),
            channels={"sms": sms, "email": email},
            alerts=AlertDelivery(ctx),
            worker=worker,
        )

    worker_a, worker_b = dispatcher("worker-a", engine_a), dispatcher("worker-b", engine_b)
    raced = []

    def a_claims_first(conn, cursor, statement, parameters, context, executemany):
        if not raced and statement.lstrip().upper().startswith("UPDATE OUTBOX"):
            raced.append(True)
            with worker_a.sessions.begin() as session:
                claim_due(session, worker_a.worker, T0, limit=10)

    event.listen(engine_b, "before_cursor_execute", a_claims_first)
    try:
        handled = worker_b.run(T0, batch=10)
        assert raced
        assert handled == len(queued) - 10  # all but the ten that A holds
    finally:
        for engine in (engine_a, engine_b, setup):
            engine.dispose()
