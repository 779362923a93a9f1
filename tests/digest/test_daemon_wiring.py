"""The digest from two whole daemons (``daemon.compose.build_context``) on one database, called
the way ``daemon.cycle`` is to call it after each cycle: one digest goes out."""

from __future__ import annotations

import io
import threading

from custody_watch.clock import FixedClock
from custody_watch.daemon.compose import build_context
from custody_watch.daemon.cycle import run_cycle

from .scenario import scripted_day
from .support import Store, t


def test_two_daemons_after_their_seven_oclock_cycle_send_one_digest(store: Store) -> None:
    scripted_day(store)
    now = t("2026-06-11T06:00:01Z")
    streams = [io.StringIO(), io.StringIO()]
    contexts = [
        build_context(store.settings, FixedClock(now), env={}, stream=stream) for stream in streams
    ]
    barrier = threading.Barrier(2)

    def daemon(i: int) -> None:
        barrier.wait()
        run_cycle(contexts[i], now, poll_all=True)  # the digest is part of every cycle

    threads = [threading.Thread(target=daemon, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    printed = "".join(s.getvalue() for s in streams)
    # supt-b has an email address but the only channel is the console, which takes any.
    assert printed.count("Subject: Custody digest 2026-06-11") == 1
    assert "To:      supt.b@example.police.uk" in printed
    for ctx in contexts:
        ctx.engine.dispose()
