"""A page says what is true when it is sent: the held time, the details and the limits are
made again at the send, and a repeat or an escalation says which it is."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import select

from alerts.support import (
    ARRIVAL,
    INSP_A,
    SUPT_B,
    T0,
    M,
    Store,
    add_detention,
    escalate_due,
    make_context,
    sync,
)
from custody_watch.alerts.deps import AlertDeps
from custody_watch.rules.engine import assess
from custody_watch.rules.policy import Policy
from custody_watch.store import detentions
from custody_watch.store.schema import AlertRow, DetentionRow
from custody_watch.times import LONDON, format_duration


def rules_context() -> AlertDeps:
    return replace(make_context(), rules=Policy(zone=LONDON))


def raise_alert(store: Store, ctx: AlertDeps, at: datetime) -> int:
    """The daemon's evaluation of a child held since ARRIVAL, as of ``at``."""
    with store.sessions.begin() as session:
        detention_id = add_detention(session)
        row = session.get(DetentionRow, detention_id)
        assert row is not None
        found = assess(detentions.load(row), Policy(zone=LONDON), at).findings
        assert found, "the child must raise findings for this test to mean anything"
        alert = sync(session, ctx, at, list(found), detention_id=detention_id)
        assert alert is not None
        return alert.id


def escalate_at(store: Store, ctx: AlertDeps, at: datetime) -> None:
    with store.sessions.begin() as session:
        for alert in session.scalars(select(AlertRow)):
            escalate_due(session, alert, ctx, at)


def test_a_repeat_sent_late_says_the_held_time_of_its_send(
    store, renderer, make_dispatcher, sms
) -> None:
    ctx = rules_context()
    raise_alert(store, ctx, T0)
    make_dispatcher(ctx).run(T0)
    escalate_at(store, ctx, T0 + 10 * M)  # level 2
    escalate_at(store, ctx, T0 + 25 * M)  # level 2 again: the first repeat
    # The repeat waited seven minutes in the outbox (an outage, a slow provider).
    sent_at = T0 + 32 * M
    make_dispatcher(ctx).run(sent_at)

    repeat = [s.text for s in sms.sent if s.to == INSP_A.phone and s.text.startswith("REPEAT")]
    assert len(repeat) == 1
    assert repeat[0].startswith("REPEAT 2: ")
    assert f"held {format_duration(sent_at - ARRIVAL)}" in repeat[0]
    assert f"held {format_duration(T0 + 25 * M - ARRIVAL)}" not in repeat[0]


def test_an_escalation_says_so_and_the_first_page_says_nothing_extra(
    store, renderer, make_dispatcher, sms
) -> None:
    ctx = rules_context()
    raise_alert(store, ctx, T0)
    make_dispatcher(ctx).run(T0)
    escalate_at(store, ctx, T0 + 10 * M)
    make_dispatcher(ctx).run(T0 + 10 * M)

    first = next(s.text for s in sms.sent if s.to == INSP_A.phone)
    assert not first.startswith(("REPEAT", "ESCALATED"))
    to_supt = [s.text for s in sms.sent if s.to == SUPT_B.phone]
    assert len(to_supt) == 1 and to_supt[0].startswith("ESCALATED TO LEVEL 2: CRITICAL")


def test_the_row_keeps_the_text_that_was_sent(store, renderer, make_dispatcher, sms) -> None:
    ctx = rules_context()
    raise_alert(store, ctx, T0)
    make_dispatcher(ctx).run(T0 + 3 * M)
    with store.sessions() as session:
        from custody_watch.store.schema import OutboxRow

        bodies = set(session.scalars(select(OutboxRow.body_text).where(OutboxRow.channel == "sms")))
    assert bodies == {s.text for s in sms.sent}
    assert all(f"held {format_duration(T0 + 3 * M - ARRIVAL)}" in b for b in bodies)
