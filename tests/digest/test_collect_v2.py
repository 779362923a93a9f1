"""The digest's v2 figures from a real store (SQLite and PostgreSQL): records go in through the
feed path, the digest reads them back with its own queries (a person's other detentions by
the ``person_ref`` index; case reviews of detentions released weeks before).

The digest dated 2026-06-11 covers 06:00Z 10 June (07:00 BST) to 06:00Z 11 June."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from custody_watch.cli.app import app
from custody_watch.digest.send import build_digest
from custody_watch.store.db import make_engine, make_sessionmaker
from custody_watch.store.migrate import upgrade

from .support import Store, make_store, put_records, t

DAY = date(2026, 6, 11)
NOW = "2026-06-11T07:30:00Z"
CHILD = {"suite": "S1", "force": "NTH", "date_of_birth": "2010-01-01"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    store = make_store(tmp_path)
    if request.param == "sqlite":
        return store
    url = request.getfixturevalue("postgres_schema_url")
    engine = make_engine(url)
    upgrade(engine)
    database = store.settings.database.model_copy(update={"url": url})
    return Store(
        store.config,
        store.settings.model_copy(update={"database": database}),
        make_sessionmaker(engine),
    )


def record(ref: str, arrival: str, **values: str) -> dict[str, str]:
    return {"custody_ref": ref, "arrival_time": arrival, **CHILD, **values}


def figures(store: Store) -> dict[str, Any]:
    with store.sessions() as session:
        built = build_digest(session, store.settings, DAY, t(NOW), with_charts=False)
    return built.figures


def test_a_child_with_two_stored_detentions_in_the_90_days_before_is_a_repeat(
    any_store: Store,
) -> None:
    put_records(
        any_store,
        [
            record(
                "OLD-1",
                "2026-03-12T08:00:00Z",
                person_ref="P-7",
                released_time="2026-03-12T12:00:00Z",
            ),
            record(
                "OLD-2",
                "2026-05-30T08:00:00Z",
                person_ref="P-7",
                released_time="2026-05-30T12:00:00Z",
            ),
            record(
                "OLD-3",
                "2026-03-12T07:59:00Z",
                person_ref="P-8",
                released_time="2026-03-12T12:00:00Z",
            ),
            record(
                "OLD-4",
                "2026-05-30T08:00:00Z",
                person_ref="P-8",
                released_time="2026-05-30T12:00:00Z",
            ),
        ],
        "2026-05-30T13:00:00Z",
    )
    put_records(
        any_store,
        [
            record("NOW-7", "2026-06-10T08:00:00Z", person_ref="P-7"),
            record("NOW-8", "2026-06-10T08:00:00Z", person_ref="P-8"),
        ],
        "2026-06-10T08:05:00Z",
    )

    result = figures(any_store)

    # P-8's older detention arrived a minute more than 90 days before: only one in range.
    assert result["totals"]["repeat_detention_children"] == 1
    assert result["suites"]["S1"]["repeat_detention_children"] == 1
    flags = {c["custody_ref"]: c["repeat_detention"] for c in result["children"]}
    assert flags == {"NOW-7": True, "NOW-8": False}


def test_looked_after_and_released_without_referral_come_from_the_stored_records(
    any_store: Store,
) -> None:
    put_records(
        any_store,
        [
            record("LA-1", "2026-06-10T08:00:00Z", looked_after="true"),
            record(
                "R-1",
                "2026-06-10T08:00:00Z",
                released_time="2026-06-10T12:00:00Z",
                social_care_referral_time="",
            ),
            record(
                "R-2",
                "2026-06-10T08:00:00Z",
                released_time="2026-06-10T12:00:00Z",
                social_care_referral_time="2026-06-10T11:00:00Z",
            ),
            # A feed that does not export referrals says nothing about them.
            record("R-3", "2026-06-10T08:00:00Z", released_time="2026-06-10T12:00:00Z"),
        ],
        "2026-06-10T12:05:00Z",
    )

    totals = figures(any_store)["totals"]

    assert totals["looked_after_in_custody"] == 1
    assert totals["released_without_referral"] == 1


def test_a_case_review_weeks_after_release_is_counted_in_its_window_and_the_share(
    any_store: Store,
) -> None:
    put_records(
        any_store,
        [
            # Held and released in April, reviewed in the window: not loaded for its custody.
            record(
                "CR-1",
                "2026-04-20T08:00:00Z",
                released_time="2026-04-20T12:00:00Z",
                case_review_grade="inadequate",
                case_review_time="2026-06-10T10:00:00Z",
            ),
            record(
                "CR-2",
                "2026-04-21T08:00:00Z",
                released_time="2026-04-21T12:00:00Z",
                case_review_grade="good",
                case_review_time="2026-05-20T10:00:00Z",
            ),
            # Reviewed before the 28 days: in neither.
            record(
                "CR-3",
                "2026-04-22T08:00:00Z",
                released_time="2026-04-22T12:00:00Z",
                case_review_grade="inadequate",
                case_review_time="2026-05-14T05:59:00Z",
            ),
            # An adult's case review counts too: the contract says records.
            {
                "custody_ref": "CR-4",
                "suite": "S1",
                "arrival_time": "2026-06-01T08:00:00Z",
                "date_of_birth": "1980-01-01",
                "released_time": "2026-06-01T12:00:00Z",
                "case_review_grade": "requires_improvement",
                "case_review_time": "2026-06-10T11:00:00Z",
            },
        ],
        "2026-06-10T11:05:00Z",
    )

    totals = figures(any_store)["totals"]

    assert totals["case_reviews"] == {"good": 0, "requires_improvement": 1, "inadequate": 1}
    assert totals["case_reviews_inadequate_share_28d"] == 1 / 3


def test_the_digest_command_prints_the_v2_figures_as_json(store: Store) -> None:
    put_records(
        store,
        [record("LA-1", "2026-06-10T08:00:00Z", looked_after="true")],
        "2026-06-10T08:05:00Z",
    )
    result = CliRunner().invoke(
        app,
        [
            "digest",
            "--date",
            "2026-06-11",
            "--format",
            "json",
            "--now",
            NOW,
            "--config",
            str(store.config),
        ],
    )
    assert result.exit_code == 0, result.output
    totals = json.loads(result.stdout)["totals"]
    assert totals["looked_after_in_custody"] == 1
    assert totals["repeat_detention_children"] == 0
    assert totals["released_without_referral"] == 0
    assert totals["case_reviews"] == {"good": 0, "requires_improvement": 0, "inadequate": 0}
    assert totals["case_reviews_inadequate_share_28d"] is None


def test_a_v1_only_store_gives_zeros_and_null_and_no_v2_words(store: Store) -> None:
    # A feed that exports no v2 field: a child released in the window says nothing about
    # referrals, so it is not "released without a referral".
    put_records(
        store,
        [
            {"custody_ref": "V1-1", "arrival_time": "2026-06-10T08:00:00Z", **CHILD},
            {
                "custody_ref": "V1-2",
                "arrival_time": "2026-06-10T08:00:00Z",
                "released_time": "2026-06-10T12:00:00Z",
                **CHILD,
            },
        ],
        "2026-06-10T12:05:00Z",
    )
    args = ["digest", "--date", "2026-06-11", "--now", NOW, "--config", str(store.config)]

    data = CliRunner().invoke(app, [*args, "--format", "json"])
    text = CliRunner().invoke(app, [*args, "--format", "text"])

    assert data.exit_code == 0 and text.exit_code == 0, data.output + text.output
    figures = json.loads(data.stdout)
    for group in (figures["totals"], figures["suites"]["S1"]):
        assert group["looked_after_in_custody"] == 0
        assert group["repeat_detention_children"] == 0
        assert group["released_without_referral"] == 0
        assert group["case_reviews"] == {"good": 0, "requires_improvement": 0, "inadequate": 0}
    assert figures["totals"]["case_reviews_inadequate_share_28d"] is None
    assert figures["released_without_referral_children"] == []
    for words in ("Looked", "again", "referral", "Case review"):
        assert words not in text.stdout
