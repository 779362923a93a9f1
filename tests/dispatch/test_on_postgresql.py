"""Delivery on PostgreSQL, in process: what SQLite let through (a provider id longer than
its column) and what must reach a person when a channel is down."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from alerts.support import (
    EMAIL,
    INSP_A,
    OPS,
    SMS,
    T0,
    M,
    Store,
    example_ladders,
    finding,
    live_alert,
    make_context,
    sync,
)
from custody_watch.alerts.delivery import AlertDelivery
from custody_watch.alerts.deps import AlertDeps
from custody_watch.config.model import SmtpChannel
from custody_watch.dispatch.claim import LEASE, claim_due, renew
from custody_watch.dispatch.sender import Dispatcher
from custody_watch.domain import Severity
from custody_watch.messages.render import Renderer
from custody_watch.notify.base import Channel
from custody_watch.notify.smtp_email import SmtpEmail
from custody_watch.store.db import make_engine, make_sessionmaker
from custody_watch.store.migrate import upgrade
from custody_watch.store.schema import OutboxRow
from fakes.smtp_server import FakeSmtp

from .channels import RecordingChannel
from .conftest import SEED

pytestmark = pytest.mark.postgres

S = timedelta(seconds=1)
# A From domain as long as a real force's: Python's make_msgid then gives a Message-ID of
# more than 64 characters (72 was seen in the field).
LONG_FROM = "custody-watch@alerts.custody-suites.north-east-region.example.police.uk"


@pytest.fixture
def pg_store(postgres_schema_url: str) -> Iterator[Store]:
    engine = make_engine(postgres_schema_url)
    upgrade(engine)
    yield Store(engine, make_sessionmaker(engine))
    engine.dispose()


@dataclass
class Rig:
    store: Store
    ctx: AlertDeps
    renderer: Renderer

    def open_alert(self, ref: str = "C-1", at=T0) -> int:
        with self.store.sessions.begin() as session:
            alert = sync(session, self.ctx, at, [finding(Severity.HIGH, ref=ref)], ref=ref)
            assert alert is not None
            return alert.id

    def dispatcher(self, channels: dict[str, Channel], worker: str = "worker-a") -> Dispatcher:
        return Dispatcher(
            sessions=self.store.sessions,
            channels=channels,
            alerts=AlertDelivery(self.ctx),
            worker=worker,
            rng=random.Random(SEED),
        )

    def rows(self) -> list[OutboxRow]:
        with self.store.sessions() as session:
            return list(session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def test_an_email_whose_message_id_is_over_64_characters_is_sent_once_and_recorded(
    pg_store: Store, renderer: Renderer
) -> None:
    rig = Rig(pg_store, make_context(ladders=example_ladders((EMAIL,))), renderer)
    rig.open_alert()
    with FakeSmtp() as smtp:
        email = SmtpEmail("email", SmtpChannel.model_validate(smtp.config(from_address=LONG_FROM)))
        dispatcher = rig.dispatcher({"email": email, "sms": RecordingChannel("sms", "phone")})
        assert dispatcher.run(T0) == 1
        # Long after any lease would have run out: nothing is left to send again.
        assert dispatcher.run(T0 + 30 * M) == 0
        mails = smtp.mails
    [row] = rig.rows()
    assert row.state == "sent"
    assert row.provider_id is not None and len(row.provider_id) > 64
    assert [m.message["Message-ID"] for m in mails] == [row.provider_id]
    assert row.attempts == 1


def test_when_sms_is_down_operations_hear_by_email_and_the_page_goes_when_it_is_back(
    pg_store: Store, renderer: Renderer
) -> None:
    """The ladder names SMS only. Twilio answers 503 until the page runs out of tries;
    insp-a's email fallback goes, and operations (email only) are told; while Twilio stays
    down it is probed once every two minutes; when it answers, the page goes."""
    rig = Rig(pg_store, make_context(ladders=example_ladders((SMS,))), renderer)
    alert_id = rig.open_alert()
    sms, email = RecordingChannel("sms", "phone"), RecordingChannel("email", "email")
    dispatcher = rig.dispatcher({"sms": sms, "email": email})
    sms.fail_next(1000, permanent=False, code="20503")
    at = T0
    while at < T0 + 30 * M:  # the retries' backoff: 30 s, 1 m, 2 m, 4 m; then probes
        dispatcher.run(at)
        at += 10 * S
    [page] = [r for r in rig.rows() if r.alert_id == alert_id and r.channel == SMS]
    assert (page.state, page.exhausted) == ("failed", True)
    assert INSP_A.email in [s.to for s in email.sent]  # the fallback
    assert OPS.email in [s.to for s in email.sent]  # delivery_failed reached operations
    # Five tries, then about one probe every two minutes: no stampede against Twilio.
    assert sms.attempts <= rig.ctx.max_attempts + 12

    sms.recover()
    dispatcher.run(at + 2 * M)  # the next probe gets through, and the page with it
    [page] = [r for r in rig.rows() if r.id == page.id]
    assert page.state == "sent" and not page.exhausted
    assert [s.to for s in sms.sent] == [INSP_A.phone]


def test_a_page_that_ran_out_of_tries_goes_again_when_another_send_gets_through(
    pg_store: Store, renderer: Renderer
) -> None:
    rig = Rig(pg_store, make_context(ladders=example_ladders((SMS,))), renderer)
    rig.open_alert()
    sms, email = RecordingChannel("sms", "phone"), RecordingChannel("email", "email")
    email.fail_always_for(INSP_A.email, code="550")  # no fallback reaches insp-a
    dispatcher = rig.dispatcher({"sms": sms, "email": email})
    dispatcher.probe_every = timedelta(hours=1)  # no probe: traffic alone brings it back
    sms.fail_next(rig.ctx.max_attempts, permanent=False, code="20503")
    at = T0
    while at < T0 + 12 * M:
        dispatcher.run(at)
        at += 10 * S
    assert sms.sent == []
    rig.open_alert("C-2", at=at)  # another child's page: Twilio answers now
    dispatcher.run(at)
    dispatcher.run(at + S)
    assert [s.to for s in sms.sent] == [INSP_A.phone, INSP_A.phone]
    assert {r.state for r in rig.rows() if r.channel == SMS and r.person_id == INSP_A.id} == {
        "sent"
    }


def test_when_operations_cannot_be_reached_the_duty_inspector_is_told(
    pg_store: Store, renderer: Renderer
) -> None:
    """As in the shared example: operations have email only. Email is down; an SMS page
    reached insp-a, but the notice to operations about their dead mailbox cannot go: the
    next role up hears of it by SMS."""
    rig = Rig(pg_store, make_context(ladders=example_ladders((SMS, EMAIL))), renderer)
    rig.open_alert()
    sms, email = RecordingChannel("sms", "phone"), RecordingChannel("email", "email")
    email.fail_always_for(INSP_A.email, code="550")
    email.fail_always_for(OPS.email, code="550")
    dispatcher = rig.dispatcher({"sms": sms, "email": email})
    for step in range(4):
        dispatcher.run(T0 + step * S)
    notices = [r for r in rig.rows() if r.purpose == "ops_notice"]
    assert notices and {r.state for r in notices} == {"failed"}
    with pg_store.sessions() as session:
        assert live_alert(session, f"delivery_failed:{OPS.id}") is not None
    told = [s for s in sms.sent if s.to == INSP_A.phone]
    assert len(told) == 2  # the page, then the delivery_failed about operations
    assert "operations (ops) could not be told" in told[1].text


def test_a_resolved_alert_does_not_cancel_the_delivery_failed_notice_unheard(
    pg_store: Store, renderer: Renderer
) -> None:
    rig = Rig(pg_store, make_context(ladders=example_ladders((SMS,))), renderer)
    rig.open_alert()
    sms, email = RecordingChannel("sms", "phone"), RecordingChannel("email", "email")
    sms.fail_always_for(INSP_A.phone)
    email.fail_always_for(INSP_A.email, code="550")
    dispatcher = rig.dispatcher({"sms": sms, "email": email})
    dispatcher.run(T0)  # both of insp-a's channels fail: delivery_failed to operations queued
    with pg_store.sessions.begin() as session:  # insp-a is reached another way meanwhile
        failed = live_alert(session, "delivery_failed:insp-a")
        assert failed is not None
        failed_id = failed.id
    queued = [r for r in rig.rows() if r.alert_id == failed_id]
    assert queued, "nothing was queued to operations"
    from custody_watch.alerts.effects import carry_out
    from custody_watch.alerts.system import clear_system

    with pg_store.sessions.begin() as session:
        cleared = clear_system(session, "delivery_failed:insp-a", rig.ctx, T0 + S, "reached")
        carry_out(session, cleared, rig.ctx, T0 + S)
    dispatcher.run(T0 + 2 * S)
    assert OPS.email in [s.to for s in email.sent]
    assert all(
        r.state == "sent" for r in rig.rows() if r.alert_id == failed_id and r.purpose == "notify"
    )


def test_the_heartbeat_skips_a_row_a_sender_is_recording_instead_of_waiting_for_it(
    pg_store: Store, renderer: Renderer
) -> None:
    """Renewing waited on every held row in no set order, and deadlocked against a sender
    recording a bundle's rows (three daemons, bench/national.py). Now a row locked at this
    moment is skipped: whoever holds it ends the claim or renews it."""
    rig = Rig(pg_store, make_context(ladders=example_ladders((SMS, EMAIL))), renderer)
    rig.open_alert()
    with pg_store.sessions.begin() as session:
        claims = [(row.id, row.claim_token) for row in claim_due(session, "worker-a", T0)]
    assert len(claims) == 2
    (first, _), (second, _) = claims
    tokens = [token for _, token in claims]
    with pg_store.sessions.begin() as recording:  # a sender mid-record on the first row
        recording.execute(select(OutboxRow.id).where(OutboxRow.id == first).with_for_update())
        with pg_store.sessions.begin() as heartbeat:
            heartbeat.execute(text("SET LOCAL lock_timeout = '3s'"))  # waiting fails the test
            assert renew(heartbeat, tokens, T0 + 5 * S, LEASE) == 1
    leases = {r.id: r.lease_until for r in rig.rows()}
    assert leases[second] == T0 + 5 * S + LEASE  # renewed
    assert leases[first] == T0 + LEASE  # left to its holder this beat
    with pg_store.sessions.begin() as heartbeat:  # the next beat renews both
        assert renew(heartbeat, tokens, T0 + 10 * S, LEASE) == 2
