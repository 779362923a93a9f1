"""``digest --format html`` opens in a browser as it is: its charts are ``data:`` URIs, not
the ``cid:`` references that only the email's attachments can answer."""

from __future__ import annotations

from daemon.conftest import make_daemon

from .test_alert_actions import CHILD, T

__all__ = ["make_daemon"]


def test_the_printed_html_digest_carries_its_charts_inside(make_daemon) -> None:
    daemon = make_daemon()
    daemon.drop("day.csv", CHILD)
    daemon.run_once(T)
    code, out, err = daemon.cli("digest", "--date", "2026-06-11", "--format", "html", "--now", T)
    assert code == 0, err
    assert "cid:" not in out
    assert out.count('src="data:image/png;base64,') >= 1
