"""The console channel prints a readable block per message."""

from __future__ import annotations

import io

import pytest

from custody_watch.notify.base import InlineImage, Message, Receipt
from custody_watch.notify.console import Console


def test_it_prints_recipient_subject_and_text() -> None:
    stream = io.StringIO()
    receipt = Console("console", stream).send(
        Message(
            to="insp.a@example.police.uk",
            subject="CRITICAL: child held 23h",
            text="C-1 at suite-a.\nReply 4821 to acknowledge.\n",
            reference="outbox-7",
        )
    )
    assert receipt == Receipt(provider_id=None, status="delivered")
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("── console ──")
    assert lines[1:7] == [
        "To:      insp.a@example.police.uk",
        "Subject: CRITICAL: child held 23h",
        "Ref:     outbox-7",
        "",
        "C-1 at suite-a.",
        "Reply 4821 to acknowledge.",
    ]
    assert set(lines[7]) == {"─"}


def test_it_writes_to_stdout_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    Console("console").send(Message(to="+447700900001", text="hello"))
    out = capsys.readouterr().out
    assert "To:      +447700900001" in out
    assert "Subject" not in out
    assert "hello" in out


def test_a_stand_in_says_so_in_every_message_and_keeps_its_address_kind() -> None:
    stream = io.StringIO()
    console = Console("sms", stream, address_kind="phone", note="not sent: no credentials")
    console.send(Message(to="+447700900001", text="one"))
    console.send(Message(to="+447700900001", text="two"))
    assert console.address_kind == "phone"
    assert stream.getvalue().count("!! not sent: no credentials") == 2


def test_it_mentions_parts_a_terminal_cannot_show() -> None:
    stream = io.StringIO()
    image = InlineImage(cid="chart", png=b"\x89PNG")
    Console("console", stream).send(
        Message(to="x@example.org", text="see chart", html="<img src='cid:chart'>", images=(image,))
    )
    assert "Also:    an HTML version and 1 image(s) (not shown)" in stream.getvalue()


def test_a_plain_console_takes_any_address() -> None:
    assert Console("console").address_kind == "any"
