"""A migrated SQLite store per test, the example config's alert context, recording channels
at the network edge, and a dispatcher with a seeded random source."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts.support import Store, make_context, make_store
from custody_watch.alerts.context import AlertContext
from custody_watch.dispatch.sender import Dispatcher
from custody_watch.messages.render import Renderer

from .channels import RecordingChannel

SEED = 20260114


@pytest.fixture(scope="session")
def renderer() -> Renderer:
    return Renderer()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    built = make_store(tmp_path / "t.db")
    yield built
    built.engine.dispose()


@pytest.fixture
def ctx() -> AlertContext:
    return make_context()


@pytest.fixture
def sms() -> RecordingChannel:
    return RecordingChannel("sms", "phone")


@pytest.fixture
def email() -> RecordingChannel:
    return RecordingChannel("email", "email")


@pytest.fixture
def make_dispatcher(store, sms, email, renderer):
    def make(ctx: AlertContext, worker: str = "worker-a", sessions=None) -> Dispatcher:
        return Dispatcher(
            sessions=sessions or store.sessions,
            channels={"sms": sms, "email": email},
            alert_ctx=ctx,
            renderer=renderer,
            worker=worker,
            rng=random.Random(SEED),
        )

    return make
