"""A migrated SQLite store per test, the example config's alert context, recording channels
at the network edge, and a dispatcher with a seeded random source."""

from __future__ import annotations

import random

import pytest

from alerts.fixtures import ctx, renderer, store
from custody_watch.alerts.delivery import AlertDelivery
from custody_watch.alerts.deps import AlertDeps
from custody_watch.dispatch.sender import Dispatcher

from .channels import RecordingChannel

__all__ = ["ctx", "email", "make_dispatcher", "renderer", "sms", "store"]

SEED = 20260114


@pytest.fixture
def sms() -> RecordingChannel:
    return RecordingChannel("sms", "phone")


@pytest.fixture
def email() -> RecordingChannel:
    return RecordingChannel("email", "email")


@pytest.fixture
def make_dispatcher(store, sms, email, renderer):
    def make(ctx: AlertDeps, worker: str = "worker-a", sessions=None) -> Dispatcher:
        return Dispatcher(
            sessions=sessions or store.sessions,
            channels={"sms": sms, "email": email},
            alerts=AlertDelivery(ctx),
            worker=worker,
            rng=random.Random(SEED),
        )

    return make
