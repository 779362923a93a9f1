"""Sending the digest: a real SMTP server reads the MIME parts; two daemons at 07:00 send one
digest; a restart after a dead claim sends it once; a missed 07:00 is sent late and says so."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from custody_watch.config import Settings
from custody_watch.digest.send import Outcome, claim, send_due_digest
from custody_watch.notify.base import AddressKind, Channel, DeliveryError, Message, Receipt
from custody_watch.notify.channels import build_channels
from custody_watch.store.db import make_engine, make_sessionmaker
from custody_watch.store.migrate import upgrade
from custody_watch.store.schema import AuditRow, DigestRow
from fakes.smtp_server import FakeSmtp

from .scenario import scripted_day
from .support import Store, make_store, t

SEVEN = "2026-06-11T06:00:00Z"  # 07:00 BST on 11 June


class Recorder:
    """A channel that keeps what it is given (thread-safe), or fails when told to."""

    def __init__(self, name: str = "email", kind: AddressKind = "email") -> None:
        self.name = name
        self.address_kind: AddressKind = kind
        self.sent: list[Message] = []
        self.fail: DeliveryError | None = None
        self._lock = threading.Lock()

    def send(self, message: Message) -> Receipt:
        if self.fail is not None:
            raise self.fail
        with self._lock:
            self.sent.append(message)
        return Receipt(provider_id=None)


def send(
    store: Store, channels: Mapping[str, Channel], now: str, worker: str = "w1"
) -> list[Outcome]:
    return send_due_digest(store.sessions, store.settings, channels, worker, t(now))


def rows(store: Store) -> list[DigestRow]:
    with store.sessions() as session:
        return list(session.scalars(select(DigestRow).order_by(DigestRow.day)))


# -- a real SMTP server ---------------------------------------------------------------------


def test_the_email_has_text_html_and_inline_charts(tmp_path: Path, fake_smtp: FakeSmtp) -> None:
    store = make_store(
        tmp_path, recipients=("supt-b", "chief-c"), channels={"email": fake_smtp.config()}
    )
    scripted_day(store)
    channels = build_channels(store.settings, {})
    [outcome] = send(store, channels, "2026-06-11T06:00:05Z")

    assert outcome.state == "sent" and not outcome.late
    assert sorted(a.person_id for a in outcome.delivery.reached) == ["chief-c", "supt-b"]
    assert {a.channel for a in outcome.delivery.reached} == {"email"}  # email before console
    mails = fake_smtp.mails
    assert sorted(r for m in mails for r in m.rcpt_tos) == [
        "chief.c@example.police.uk",
        "supt.b@example.police.uk",
    ]
    mail = mails[0].message
    assert mail["Subject"].startswith("Custody digest 2026-06-11: 8 children in custody")
    assert mail.get_content_type() == "multipart/alternative"
    text = part(mail, "text/plain").get_content()
    html = part(mail, "text/html").get_content()
    assert "Daily custody digest for Thursday 11 June 2026" in text
    assert "C-101" in text and "C-101" in html
    images = [p for p in mail.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 2
    for image in images:
        cid = str(image["Content-ID"]).strip("<>")
        assert f'src="cid:{cid}"' in html
        png = image.get_content()
        assert isinstance(png, bytes) and png.startswith(b"\x89PNG")
        assert image["Content-Disposition"].startswith("inline")
        assert len(str(image["Content-Description"])) > 40  # the alt text
    assert html.count('alt="') == 2 and 'alt=""' not in html
    whole = mails[0].data.decode("utf-8", "replace")
    for private in ("P-SECRET-1", "2011-03-01", "Insp. A. Example"):
        assert private not in text and private not in html and private not in whole
    [row] = rows(store)
    assert row.state == "sent" and row.sent_at == t("2026-06-11T06:00:05Z")
    assert row.figures is not None and row.figures["totals"]["children_in_custody"] == 8


def part(mail: EmailMessage, kind: str) -> EmailMessage:
    found = mail.get_body(preferencelist=(kind.split("/")[1],))
    assert found is not None and found.get_content_type() == kind
    return found  # type: ignore[return-value]


def test_a_phone_only_recipient_gets_the_short_text(tmp_path: Path) -> None:
    store = make_store(tmp_path, recipients=("insp-a",))
    sms = Recorder("sms", "phone")
    email = Recorder("email", "email")
    [outcome] = send(store, {"email": email, "sms": sms}, SEVEN)
    assert outcome.state == "sent" and email.sent == []
    [message] = sms.sent
    assert message.to == "+447700900001" and message.html is None and message.images == ()
    assert len(message.text) < 320 and "quiet day" in message.text


# -- exactly once ---------------------------------------------------------------------------


def two_daemons_at_seven(settings: Settings, url: str) -> tuple[list[Any], Recorder]:
    engine = make_engine(url)
    upgrade(engine)
    email = Recorder()
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def daemon(i: int) -> None:
        sessions = make_sessionmaker(engine)  # each daemon its own factory and connections
        barrier.wait()
        results[i] = send_due_digest(sessions, settings, {"email": email}, f"w{i}", t(SEVEN))

    threads = [threading.Thread(target=daemon, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    engine.dispose()
    return results, email


def test_two_daemons_at_seven_send_one_digest_on_sqlite(store: Store) -> None:
    results, email = two_daemons_at_seven(store.settings, store.settings.database.url)
    assert sorted(len(r) for r in results) == [0, 1]
    assert len(email.sent) == 1
    [row] = rows(store)
    assert row.state == "sent" and row.day == date(2026, 6, 11)


@pytest.mark.postgres
def test_two_daemons_at_seven_send_one_digest_on_postgresql(
    store: Store, postgres_schema_url: str
) -> None:
    settings = store.settings.model_copy(
        update={"database": store.settings.database.model_copy(update={"url": postgres_schema_url})}
    )
    results, email = two_daemons_at_seven(settings, postgres_schema_url)
    assert sorted(len(r) for r in results) == [0, 1]
    assert len(email.sent) == 1


def test_the_next_cycle_sends_nothing_more(store: Store) -> None:
    email = Recorder()
    assert len(send(store, {"email": email}, SEVEN)) == 1
    assert send(store, {"email": email}, "2026-06-11T06:00:02Z") == []
    assert send(store, {"email": email}, "2026-06-11T20:00:00Z", worker="w2") == []
    assert len(email.sent) == 1


def test_a_fresh_store_sends_nothing_it_would_send_late(store: Store) -> None:
    email = Recorder()
    # First run at 06:59:59 BST: yesterday's digest was due a day ago; it is not sent.
    assert send(store, {"email": email}, "2026-06-11T05:59:59Z") == []
    assert [(r.day, r.state) for r in rows(store)] == [(date(2026, 6, 10), "skipped")]
    [today] = send(store, {"email": email}, SEVEN)
    assert today.day == date(2026, 6, 11) and not today.late
    assert len(email.sent) == 1


def test_a_fresh_store_started_within_the_hour_sends_on_time(store: Store) -> None:
    email = Recorder()
    [outcome] = send(store, {"email": email}, "2026-06-11T06:59:00Z")
    assert outcome.day == date(2026, 6, 11) and not outcome.late


def test_a_fresh_store_started_late_in_the_day_waits_for_tomorrow(store: Store) -> None:
    email = Recorder()
    assert send(store, {"email": email}, "2026-06-11T09:30:00Z") == []
    # Down at 07:00 the next day: that one was missed, and goes out late.
    [outcome] = send(store, {"email": email}, "2026-06-12T09:00:00Z")
    assert outcome.day == date(2026, 6, 12) and outcome.late


def test_a_restart_after_the_claim_lease_expired_sends_once(store: Store) -> None:
    window = (t("2026-06-10T06:00:00Z"), t(SEVEN))
    # Daemon w1 claimed at 07:00:01 and died before sending.
    assert claim(store.sessions, date(2026, 6, 11), window, "w1", t("2026-06-11T06:00:01Z"))
    email = Recorder()
    # The lease is 20 s (a live holder's heartbeat renews it): w2 waits that long, no more.
    assert send(store, {"email": email}, "2026-06-11T06:00:15Z", worker="w2") == []  # leased
    [outcome] = send(store, {"email": email}, "2026-06-11T06:00:22Z", worker="w2")
    assert outcome.state == "sent" and not outcome.late
    assert send(store, {"email": email}, "2026-06-11T06:30:00Z", worker="w1") == []
    assert len(email.sent) == 1
    [row] = rows(store)
    assert row.claimed_by == "w2"


def test_a_missed_seven_oclock_is_sent_late_and_says_so(store: Store) -> None:
    email = Recorder()
    send(store, {"email": email}, "2026-06-10T06:00:00Z")  # the 10th, on time
    email.sent.clear()
    [outcome] = send(store, {"email": email}, "2026-06-11T09:30:00Z")  # 10:30 BST
    assert outcome.late
    [message] = email.sent
    assert "(sent late)" in message.subject
    flat = " ".join(message.text.split())
    assert (
        "This digest is late: it was due at Thu 11 Jun 07:00 BST and was sent at "
        "Thu 11 Jun 10:30 BST" in flat
    )
    assert message.html is not None and "Sent late." in message.html
    assert [(r.day.isoformat(), r.late) for r in rows(store)] == [
        ("2026-06-10", False),
        ("2026-06-11", True),
    ]


def test_within_the_hour_is_not_late(store: Store) -> None:
    email = Recorder()
    [outcome] = send(store, {"email": email}, "2026-06-11T07:00:00Z")
    assert not outcome.late and "late" not in email.sent[0].subject


def test_days_missed_while_down_are_each_sent_late(store: Store) -> None:
    email = Recorder()
    send(store, {"email": email}, "2026-06-08T06:00:10Z")  # the 8th, on time
    outcomes = send(store, {"email": email}, "2026-06-11T08:00:00Z")  # back on the 11th
    assert [(o.day.isoformat(), o.late) for o in outcomes] == [
        ("2026-06-09", True),
        ("2026-06-10", True),
        ("2026-06-11", True),
    ]
    assert [m.subject[15:25] for m in email.sent] == [
        "2026-06-08",
        "2026-06-09",
        "2026-06-10",
        "2026-06-11",
    ]


def test_at_most_seven_missed_days_are_sent(store: Store) -> None:
    email = Recorder()
    send(store, {"email": email}, "2026-05-01T06:00:10Z")
    outcomes = send(store, {"email": email}, "2026-06-11T08:00:00Z")
    assert [o.day for o in outcomes] == [
        date(2026, 6, 11) - timedelta(days=n) for n in range(6, -1, -1)
    ]


def test_a_failed_send_is_retried_later(store: Store) -> None:
    email = Recorder()
    email.fail = DeliveryError("relay down", permanent=False)
    [outcome] = send(store, {"email": email}, SEVEN)
    assert outcome.state == "failed"
    [row] = rows(store)
    assert row.state == "failed" and "relay down" in (row.error or "")
    email.fail = None
    assert send(store, {"email": email}, "2026-06-11T06:10:00Z") == []  # waits 15 minutes
    [retried] = send(store, {"email": email}, "2026-06-11T06:15:01Z")
    assert retried.state == "sent" and len(email.sent) == 1
    with store.sessions() as session:
        events = [a.event for a in session.scalars(select(AuditRow).order_by(AuditRow.id))]
    assert events == ["digest_failed", "digest_sent"]


def test_another_channel_is_tried_when_email_fails(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    email, console = Recorder("email", "email"), Recorder("console", "any")
    email.fail = DeliveryError("550 no such mailbox", permanent=True)
    [outcome] = send(store, {"console": console, "email": email}, SEVEN)
    assert outcome.state == "sent"
    assert [a.channel for a in outcome.delivery.failed] == ["email"]
    assert [a.channel for a in outcome.delivery.reached] == ["console"]
    assert console.sent[0].to == "supt.b@example.police.uk"


def test_no_recipients_sends_nothing(tmp_path: Path) -> None:
    store = make_store(tmp_path, recipients=())
    assert send(store, {"email": Recorder()}, SEVEN) == []
    assert rows(store) == []
