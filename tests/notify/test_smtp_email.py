"""The SMTP channel, through smtplib to a real (aiosmtpd) server on 127.0.0.1."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from custody_watch.config.model import SmtpChannel
from custody_watch.notify.base import DeliveryError, InlineImage, Message
from custody_watch.notify.smtp_email import SmtpEmail
from fakes.smtp_server import FROM_ADDRESS, FakeSmtp
from fakes.tls import SelfSigned

TO = "insp.a@example.police.uk"
# The smallest valid PNG: a 1x1 transparent pixel.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
LOGIN = ("custody-watch", "correct horse")


def make_email(
    server: FakeSmtp, ssl_context: Any = None, login: tuple[str, str] | None = None, **config: Any
) -> SmtpEmail:
    settings = SmtpChannel.model_validate(server.config(timeout="5s", **config))
    username, password = login or (None, None)
    return SmtpEmail(
        "email", settings, username=username, password=password, ssl_context=ssl_context
    )


def refusal(email: SmtpEmail, message: Message | None = None) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        email.send(message or Message(to=TO, subject="Alert", text="text"))
    return caught.value


def test_it_sends_text_html_and_inline_images_as_alternatives(fake_smtp: FakeSmtp) -> None:
    message = Message(
        to=TO,
        subject="Daily digest – 11 June",
        text="9 children in custody.\n",
        html='<p>9 children in custody.</p><img src="cid:chart-1" alt="Hours held">',
        reference="outbox-42",
        images=(InlineImage(cid="chart-1", png=PIXEL, alt="Hours held"),),
    )
    receipt = make_email(fake_smtp).send(message)

    [mail] = fake_smtp.mails
    assert (mail.mail_from, mail.rcpt_tos) == (FROM_ADDRESS, (TO,))
    email = mail.message
    # The parser keeps the space left by folding the long header.
    assert receipt.provider_id == email["Message-ID"].strip()
    assert receipt.status == "sent"
    assert email["Message-ID"].endswith("@example.police.uk>")
    assert (email["From"], email["To"]) == (FROM_ADDRESS, TO)
    assert email["Subject"] == "Daily digest – 11 June"
    assert email["Date"].datetime.tzinfo is not None
    assert email["X-Custody-Watch-Ref"] == "outbox-42"
    assert email.get_content_type() == "multipart/alternative"

    text = email.get_body(preferencelist=("plain",))
    html = email.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert text.get_content() == "9 children in custody.\n"
    assert 'src="cid:chart-1"' in html.get_content()
    [related] = [p for p in email.iter_parts() if p.get_content_type() == "multipart/related"]
    [image] = [p for p in related.iter_parts() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<chart-1>"
    assert image.get_content_disposition() == "inline"
    assert image["Content-Description"] == "Hours held"
    assert image.get_content() == PIXEL


def test_a_text_only_message_is_plain_text(fake_smtp: FakeSmtp) -> None:
    make_email(fake_smtp).send(Message(to=TO, subject="Alert", text="Ack 4821"))
    email = fake_smtp.mails[0].message
    assert email.get_content_type() == "text/plain"
    assert email.get_content() == "Ack 4821\n"


def test_images_without_html_are_attached_rather_than_lost(fake_smtp: FakeSmtp) -> None:
    image = InlineImage(cid="chart", png=PIXEL)
    make_email(fake_smtp).send(Message(to=TO, text="see the chart", images=(image,)))
    [attachment] = list(fake_smtp.mails[0].message.iter_attachments())
    assert (attachment.get_filename(), attachment.get_content()) == ("chart.png", PIXEL)


def test_it_logs_in_when_given_credentials() -> None:
    with FakeSmtp(credentials=LOGIN) as server:
        make_email(server, login=LOGIN).send(Message(to=TO, text="hi"))
        assert server.mails[0].login == "custody-watch"


def test_a_refused_login_is_permanent() -> None:
    with FakeSmtp(credentials=LOGIN) as server:
        error = refusal(make_email(server, login=("custody-watch", "wrong")))
        assert (error.permanent, error.code) == (True, "535")
        assert "refused the login" in str(error)
        assert server.mails == []


def test_sending_without_a_login_the_server_requires_is_permanent() -> None:
    with FakeSmtp(credentials=LOGIN) as server:
        error = refusal(make_email(server))
        assert (error.permanent, error.code) == (True, "530")


def test_it_uses_starttls_and_checks_the_certificate(self_signed: SelfSigned) -> None:
    with FakeSmtp(starttls=self_signed.server_context(), credentials=LOGIN) as server:
        email = make_email(server, self_signed.client_context(), login=LOGIN, starttls=True)
        email.send(Message(to=TO, text="over TLS"))
        [mail] = server.mails
        assert (mail.tls, mail.login) == (True, "custody-watch")


def test_it_speaks_implicit_tls(self_signed: SelfSigned) -> None:
    with FakeSmtp(implicit_tls=self_signed.server_context()) as server:
        make_email(server, self_signed.client_context(), tls=True).send(Message(to=TO, text="hi"))
        assert server.mails[0].tls is True


def test_an_untrusted_certificate_is_permanent(self_signed: SelfSigned) -> None:
    with FakeSmtp(starttls=self_signed.server_context()) as server:
        # The system's trust store does not know the self-signed certificate.
        error = refusal(make_email(server, starttls=True))
        assert error.permanent is True
        assert "certificate not trusted" in str(error)


def test_a_server_without_starttls_is_not_sent_to_in_clear(fake_smtp: FakeSmtp) -> None:
    error = refusal(make_email(fake_smtp, starttls=True))
    assert error.permanent is True
    assert "STARTTLS" in str(error)
    assert fake_smtp.mails == []


@pytest.mark.parametrize("code", [550, 551, 552, 553])
def test_a_refused_recipient_is_permanent(fake_smtp: FakeSmtp, code: int) -> None:
    fake_smtp.refuse_recipient(TO, code)
    error = refusal(make_email(fake_smtp))
    assert (error.permanent, error.code) == (True, str(code))
    assert f"refused {TO}" in str(error)


@pytest.mark.parametrize("code", [450, 451])
def test_a_deferred_recipient_is_transient(fake_smtp: FakeSmtp, code: int) -> None:
    fake_smtp.refuse_recipient(TO, code)
    error = refusal(make_email(fake_smtp))
    assert (error.permanent, error.code) == (False, str(code))


def test_a_message_the_server_took_is_sent_even_if_the_goodbye_fails(fake_smtp: FakeSmtp) -> None:
    fake_smtp.answer_quit_with("554 5.3.0 Goodbye went wrong")
    assert make_email(fake_smtp).send(Message(to=TO, text="hi")).status == "sent"
    assert len(fake_smtp.mails) == 1


def test_a_server_that_is_down_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = SmtpChannel(
        kind="smtp", host="127.0.0.1", port=port, starttls=False, from_address=FROM_ADDRESS
    )
    error = refusal(SmtpEmail("email", settings))
    assert error.permanent is False
    assert "Connection refused" in str(error)


@pytest.mark.parametrize(
    "to", ["not-an-address", "a@", "a@b.example, c@d.example", "x@y.example\nBcc: z@y.example"]
)
def test_a_malformed_address_is_permanent_and_never_sent(fake_smtp: FakeSmtp, to: str) -> None:
    error = refusal(make_email(fake_smtp), Message(to=to, text="hi"))
    assert error.permanent is True
    assert "cannot write an email" in str(error)
    assert fake_smtp.mails == []


def test_a_header_injection_in_the_subject_is_refused(fake_smtp: FakeSmtp) -> None:
    error = refusal(make_email(fake_smtp), Message(to=TO, subject="x\nBcc: z@y.example", text="hi"))
    assert error.permanent is True
    assert fake_smtp.mails == []
