"""A source's URL keeps its host and path only, everywhere its error is shown or logged:
the sources page, ``custody-watch sources``, /healthz for a user, and every log line."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from custody_watch.cli import main
from custody_watch.config.model import LoggingSettings
from custody_watch.logs import configure_logging
from custody_watch.store import sources

from .support import Site

LEAKY = "HTTPError: 401 from https://feed:pa55word@feed.example/v1/records?api_key=K3Y#frag"
SECRETS = ("pa55word", "K3Y", "api_key", "frag")


def stored_unredacted(site: Site) -> None:
    """As a row kept from before errors were redacted at the source would be."""
    with site.ctx.sessions.begin() as session:
        state = sources.state(session, "suite-a", "csv_folder")
        state.last_error = LEAKY
        state.last_error_at = site.clock.now()
        state.failures = 2


def test_the_sources_page_shows_the_error_redacted(site: Site) -> None:
    stored_unredacted(site)
    site.login("alice")
    page = site.client.get("/sources")
    assert page.status_code == 200
    assert "https://…@feed.example/v1/records?…" in page.text
    assert not any(secret in page.text for secret in SECRETS)


def test_the_sources_command_prints_the_error_redacted(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stored_unredacted(site)
    config = tmp_path / "cw.toml"
    url = site.ctx.settings.database.url
    config.write_text(
        f'[database]\nurl = "{url}"\n\n[[sources]]\nname = "suite-a"\nkind = "csv_folder"\n'
        f'path = "{tmp_path / "inbox"}"\n',
        encoding="utf-8",
    )
    for output in ("json", "table"):
        capsys.readouterr()
        try:
            main(["sources", "--config", str(config), "--format", output])
        except SystemExit as exit_:
            assert not exit_.code
        out = capsys.readouterr().out
        assert "feed.example/v1/records" in out, output
        assert not any(secret in out for secret in SECRETS), output
        if output == "json":
            assert json.loads(out)


@pytest.mark.parametrize("kind", ["human", "json"])
def test_log_lines_and_their_tracebacks_are_redacted(kind: str) -> None:
    stream = io.StringIO()
    handler = configure_logging(LoggingSettings(format=kind), stream)  # type: ignore[arg-type]
    try:
        log = logging.getLogger("custody_watch.test")
        log.warning("source failed: %s", LEAKY)
        try:
            raise RuntimeError(LEAKY)
        except RuntimeError:
            log.exception("source %s failed", "suite-a")
    finally:
        logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    assert text.count("feed.example/v1/records") == 2  # the message and the exception
    assert not any(secret in text for secret in SECRETS)
