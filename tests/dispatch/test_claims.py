"""Claims that cannot outlive their lease: a holder re-checks its claim right before the
provider call, its heartbeat keeps what it is sending, a restarted daemon takes its own rows
back at once, and a row whose outcome is never recorded is not sent forever."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from alerts.support import INSP_A, OPS, T0, Store, audit_events, finding, sync
from custody_watch.alerts.deps import AlertDeps
from custody_watch.dispatch.claim import claim_due
from custody_watch.domain import Severity
from custody_watch.store.schema import OutboxRow

S = timedelta(seconds=1)


def open_alert(store: Store, ctx: AlertDeps, ref: str = "C-1") -> None:
    with store.sessions.begin() as session:
        sync(session, ctx, T0, [finding(Severity.HIGH, ref=ref)], ref=ref)


def rows(store: Store) -> list[OutboxRow]:
    with store.sessions() as session:
        return list(session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def claim(store: Store, worker: str, at) -> list[int]:
    with store.sessions.begin() as session:
        return [r.id for r in claim_due(session, worker, at)]


def test_a_holder_whose_lease_ran_out_before_the_provider_call_does_not_send(
    store, ctx, sms, email, make_dispatcher
):
    open_alert(store, ctx)
    worker_a = make_dispatcher(ctx, "worker-a")
    claimed = claim(store, "worker-a", T0)
    # A stalls past its lease (20 s) before it gets to the provider: nobody has taken the rows
    # yet, but anyone may at any moment, so A must not send them.
    for row_id in claimed:
        worker_a.send_one(row_id, T0 + 21 * S)
    assert sms.sent == email.sent == []
    assert {r.state for r in rows(store)} == {"sending"}
    assert make_dispatcher(ctx, "worker-b").run(T0 + 22 * S) == 2
    assert sorted(s.reference for s in sms.sent + email.sent) == sorted(map(str, claimed))


def test_the_heartbeat_keeps_a_claim_that_is_still_being_sent(store, ctx, make_dispatcher):
    open_alert(store, ctx)
    worker_a = make_dispatcher(ctx, "worker-a")
    claimed = claim(store, "worker-a", T0)
    with store.sessions() as session:
        tokens = [session.get(OutboxRow, i).claim_token for i in claimed]  # type: ignore[union-attr]
    worker_a._hold(claim_objects(claimed, tokens))  # A is mid-batch with these two
    for beat in range(1, 6):  # every 5 s for 25 s: longer than one lease
        assert worker_a.renew(T0 + beat * 5 * S) == 2
    assert make_dispatcher(ctx, "worker-b").run(T0 + 26 * S) == 0
    # Once A lets go (it died), the rows lapse one lease after the last renewal.
    worker_a._release(claim_objects(claimed, tokens))
    assert worker_a.renew(T0 + 30 * S) == 0
    assert make_dispatcher(ctx, "worker-b").run(T0 + 46 * S) == 2


def claim_objects(ids, tokens):
    from custody_watch.dispatch.claim import Claim

    return [Claim(i, t) for i, t in zip(ids, tokens, strict=True)]


def test_a_restarted_daemon_takes_its_own_rows_back_at_once(
    store, ctx, sms, email, make_dispatcher
):
    open_alert(store, ctx)
    claimed = claim(store, "host:abc", T0)  # then killed with -9
    restarted = make_dispatcher(ctx, "host:abc")
    assert restarted.release_own(T0 + 2 * S) == 2
    assert restarted.run(T0 + 2 * S) == 2  # not 20 s later
    assert sorted(s.reference for s in sms.sent + email.sent) == sorted(map(str, claimed))
    assert [r.attempts for r in rows(store)] == [2, 2]  # the lost claim counted as a try
    with store.sessions() as session:
        assert "claims_released" in audit_events(session)


def test_another_daemons_rows_are_not_taken_back_by_a_restart(store, ctx, make_dispatcher):
    open_alert(store, ctx)
    claim(store, "host:other", T0)
    assert make_dispatcher(ctx, "host:abc").release_own(T0 + 2 * S) == 0
    assert {r.claimed_by for r in rows(store)} == {"host:other"}


def test_a_row_claimed_and_lost_max_attempts_times_is_failed_not_sent_again(
    store, ctx, sms, email, make_dispatcher
):
    """A holder that sends and then cannot record it (the database refused the value) lets
    the lease lapse; without a bound the message went out again at every expiry."""
    open_alert(store, ctx)
    at = T0
    for _ in range(ctx.max_attempts):
        assert len(claim(store, "worker-a", at)) == 2  # sent, never recorded
        at += 21 * S
    survivor = make_dispatcher(ctx, "worker-b")
    survivor.run(at)
    pages = rows(store)
    assert [(r.state, r.attempts) for r in pages if r.person_id == INSP_A.id] == [
        ("failed", ctx.max_attempts)
    ] * 2
    assert "no outcome was ever recorded" in (pages[0].last_error or "")
    # Not sent again; but nobody was reached as far as anyone knows, so operations hear of it.
    assert sms.sent == []
    assert [s.to for s in email.sent] == [OPS.email]


def test_a_run_that_used_its_time_budget_hands_the_unsent_rows_back_untried(
    store, ctx, sms, email, make_dispatcher
):
    """The tick that sends also escalates: a slow provider must not hold up the next step,
    so a run stops after its budget and leaves the rest due for the next tick (or daemon)."""
    for ref in ("C-1", "C-2", "C-3"):
        open_alert(store, ctx, ref)  # six pages
    elapsed = [0.0]
    slow_send = sms.send

    def send_in_0_6_s(message):
        elapsed[0] += 0.6
        return slow_send(message)

    sms.send = send_in_0_6_s  # type: ignore[method-assign]
    email.send = send_in_0_6_s  # type: ignore[method-assign]
    dispatcher = make_dispatcher(ctx)
    dispatcher.time_budget = 1.0
    dispatcher.monotonic = lambda: elapsed[0]

    assert dispatcher.run(T0) == 2  # 0.6 s, 1.2 s: over budget, the other four go back
    pending = [r for r in rows(store) if r.state == "pending"]
    assert len(pending) == 4
    assert {(r.attempts, r.claim_token, r.lease_until) for r in pending} == {(0, None, None)}
    elapsed[0] = 0.0
    assert dispatcher.run(T0 + S) == 2
