"""Every round of an alert sends links for that round: the round moves on with an
acknowledgement, an ack timeout, a re-raise and a resolve, and the pages of the new round
carry links that name it."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from custody_watch.alerts import ack, lifecycle
from custody_watch.alerts.links import AckLinks
from custody_watch.domain import Severity

from .support import EMAIL, T0, H, M, escalate_due, finding, mark_sent, outbox, sync

LINKS = AckLinks("alert-tests-signing-key", "https://cw.example", timedelta(hours=24))


def rounds_in_latest_emails(session) -> set[int]:
    rows = [r for r in outbox(session, channel=EMAIL, purpose="notify", state="pending")]
    found = {re.search(r"/ack/(\S+)", r.body_text) for r in rows}
    return {LINKS.read(m[1], T0 + 5 * H).ack_round for m in found if m}


def test_each_round_sends_links_for_itself(session, ctx):
    ctx = replace(ctx, ack_link=LINKS.url)
    alert = sync(session, ctx, T0, [finding(Severity.HIGH)])
    assert alert is not None
    session.commit()
    assert alert.ack_round == 0 and rounds_in_latest_emails(session) == {0}
    mark_sent(session, T0)

    assert ack.acknowledge(session, alert.ack_code, "insp-a", ctx, T0 + M).ok
    session.commit()
    assert alert.ack_round == 1
    mark_sent(session, T0 + M)

    escalate_due(session, alert, ctx, T0 + M + 2 * H)  # the ack timed out
    session.commit()
    assert alert.ack_round == 2 and rounds_in_latest_emails(session) == {2}
    mark_sent(session, T0 + 3 * H)

    sync(session, ctx, T0 + 3 * H, [finding(Severity.CRITICAL)])  # re-raised
    session.commit()
    assert alert.ack_round == 3 and rounds_in_latest_emails(session) == {3}

    lifecycle.resolve(session, alert, T0 + 4 * H, "released")
    session.commit()
    assert alert.ack_round == 4


def test_a_link_of_an_ended_round_cannot_acknowledge_even_past_the_page(session, ctx):
    alert = sync(session, ctx, T0, [finding(Severity.HIGH)])
    assert alert is not None
    session.commit()
    result = ack.acknowledge_alert(session, alert, "insp-a", ctx, T0 + M, ack_round=5)
    assert not result.ok and "earlier round" in result.message
    assert alert.state == "open" and alert.ack_round == 0
