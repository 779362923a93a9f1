"""``custody-watch evaluate`` and ``check-config`` as outside tests run them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from custody_watch.cli import app, load_commands

EXAMPLE = Path(__file__).parents[3] / "shared/spec/config-example.toml"
UTC_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
RANK = {"info": 0, "warning": 1, "high": 2, "critical": 3}

CSV_HEADER = "custody_ref,suite,arrival_time,date_of_birth,appropriate_adult_arrived_time"


@pytest.fixture
def example_text() -> str:
    if not EXAMPLE.is_file():
        pytest.skip(f"the shared example config is not at {EXAMPLE}")
    return EXAMPLE.read_text(encoding="utf-8")


@pytest.fixture
def clean_cwd(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """In-process runs: no default config file and no environment variable."""
    monkeypatch.delenv("CUSTODY_WATCH_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cli(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m custody_watch`` in ``cwd`` (where no default config exists)."""
    environ = {k: v for k, v in os.environ.items() if k != "CUSTODY_WATCH_CONFIG"}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "custody_watch", *map(str, args)],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def invoke(*args: str) -> Any:
    load_commands(list(args))  # main() does this; CliRunner calls the app directly
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def evaluate_json(path: Path, at: str, *extra: str) -> dict[str, Any]:
    result = invoke("evaluate", str(path), "--at", at, "--format", "json", *extra)
    return json.loads(result.stdout)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert result.stdout == ""
    return lines[0]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# Two children and a rejected row. At 21:00Z on 10 June 2026 (22:00 BST):
#   C-2 arrived 12:00Z, no AA: review_overdue critical 20:00Z, appropriate_adult high 15:00Z,
#       child_detention_duration warning 20:00Z, child_overnight warning 21:00Z.
#   C-1 the same but the AA arrived: review_overdue critical 20:00Z, duration warning 20:00Z,
#       child_overnight warning 21:00Z.
#   C-3 no date of birth, arrived 21:00Z (in the overnight window): child_overnight and
#       missing_dob, both warning since 21:00Z.
FEED = "\n".join(
    [
        CSV_HEADER,
        "C-2,S1,2026-06-10T12:00:00Z,2010-01-01,",
        "C-1,S1,2026-06-10T13:00:00+01:00,2010-01-01,2026-06-10T12:30:00Z",
        ",S1,2026-06-10T12:00:00Z,,",
        "C-3,S1,2026-06-10T21:00:00Z,,",
        "C-9,S1,2026-06-10T12:00:00,2010-01-01,",
        "",
    ]
)
AT = "2026-06-10T22:00:00+01:00"


# --- JSON output ------------------------------------------------------------------------------


def test_json_output_has_the_contract_shape(clean_cwd: Path) -> None:
    out = evaluate_json(write(clean_cwd / "feed.csv", FEED), AT)
    assert set(out) >= {"at", "findings", "rejected"}
    assert out["at"] == "2026-06-10T21:00:00Z"
    assert out["findings"]
    for finding in out["findings"]:
        assert set(finding) >= {"custody_ref", "rule", "severity", "since", "detail"}
        assert isinstance(finding["custody_ref"], str)
        assert isinstance(finding["rule"], str)
        assert finding["severity"] in RANK
        assert UTC_Z.match(finding["since"]), finding["since"]
        assert isinstance(finding["detail"], str) and finding["detail"]
    assert [(r["row"], r["custody_ref"]) for r in out["rejected"]] == [(3, None), (5, "C-9")]
    assert out["rejected"][0]["error"] == "custody_ref: required field missing"
    assert out["rejected"][1]["error"].startswith("arrival_time: ")
    assert "offset" in out["rejected"][1]["error"]
    for rejection in out["rejected"]:
        assert set(rejection) >= {"row", "custody_ref", "error"}


def test_json_findings_are_the_expected_ones_in_contract_order(clean_cwd: Path) -> None:
    out = evaluate_json(write(clean_cwd / "feed.csv", FEED), AT)
    got = [(f["severity"], f["since"], f["custody_ref"], f["rule"]) for f in out["findings"]]
    assert got == [
        ("critical", "2026-06-10T20:00:00Z", "C-1", "review_overdue"),
        ("critical", "2026-06-10T20:00:00Z", "C-2", "review_overdue"),
        ("high", "2026-06-10T15:00:00Z", "C-2", "appropriate_adult"),
        ("warning", "2026-06-10T20:00:00Z", "C-1", "child_detention_duration"),
        ("warning", "2026-06-10T20:00:00Z", "C-2", "child_detention_duration"),
        ("warning", "2026-06-10T21:00:00Z", "C-1", "child_overnight"),
        ("warning", "2026-06-10T21:00:00Z", "C-2", "child_overnight"),
        ("warning", "2026-06-10T21:00:00Z", "C-3", "child_overnight"),
        ("warning", "2026-06-10T21:00:00Z", "C-3", "missing_dob"),
    ]


def test_json_findings_are_sorted_by_severity_since_ref_and_rule(clean_cwd: Path) -> None:
    rows = [CSV_HEADER] + [
        f"C-{i},S{i % 3},2026-06-{10 + i % 4:02d}T{(5 * i) % 24:02d}:00:00Z,"
        f"{'' if i % 5 == 0 else '2011-03-04'},"
        for i in range(1, 30)
    ]
    out = evaluate_json(
        write(clean_cwd / "many.csv", "\n".join(rows) + "\n"), "2026-06-14T09:00:00Z"
    )
    keys = [
        (-RANK[f["severity"]], f["since"], f["custody_ref"], f["rule"]) for f in out["findings"]
    ]
    assert len(keys) > 20
    assert keys == sorted(keys)


def test_json_at_is_written_in_utc_with_whole_seconds(clean_cwd: Path) -> None:
    path = write(clean_cwd / "empty.csv", CSV_HEADER + "\n")
    assert evaluate_json(path, "2026-10-25T01:30:00.75+01:00")["at"] == "2026-10-25T00:30:00Z"
    assert evaluate_json(path, "2026-06-10t12:00:00z")["at"] == "2026-06-10T12:00:00Z"


def test_json_output_of_a_jsonl_file(clean_cwd: Path) -> None:
    lines = [
        {
            "custody_ref": "J-1",
            "suite": "S",
            "arrival_time": "2026-06-10T12:00:00Z",
            "date_of_birth": "2010-01-01",
            "appropriate_adult_arrived_time": "2026-06-10T12:00:00Z",
            "reviews": ["2026-06-10T17:00:00Z"],
            "unknown": {"x": 1},
        },
        [1, 2],
        {"suite": "S", "arrival_time": "2026-06-10T12:00:00Z"},
    ]
    path = write(clean_cwd / "feed.JSONL", "".join(json.dumps(x) + "\n\n" for x in lines))
    out = evaluate_json(path, "2026-06-10T20:30:00Z")
    assert [(f["custody_ref"], f["rule"], f["severity"], f["since"]) for f in out["findings"]] == [
        ("J-1", "child_detention_duration", "warning", "2026-06-10T20:00:00Z"),
    ]
    assert [(r["row"], r["custody_ref"]) for r in out["rejected"]] == [(2, None), (3, None)]
    assert out["rejected"][0]["error"].startswith("row: ")
    assert out["rejected"][1]["error"].startswith("custody_ref: ")


def test_an_empty_file_evaluates_to_nothing(clean_cwd: Path) -> None:
    for name in ("empty.csv", "empty.jsonl"):
        out = evaluate_json(write(clean_cwd / name, ""), AT)
        assert out == {"at": "2026-06-10T21:00:00Z", "findings": [], "rejected": []}


def test_the_naive_timezone_option_reads_times_without_an_offset(clean_cwd: Path) -> None:
    text = (
        "\n".join(
            [
                CSV_HEADER,
                "N-1,S1,2026-06-10T13:00:00,2010-01-01,2026-06-10T13:00:00",
                "N-2,S1,2026-03-29T01:30:00,2010-01-01,",
                "N-3,S1,2026-10-25T01:30:00,2010-01-01,",
                "N-4,S1,2026-12-10T13:00:00,2010-01-01,2026-12-10T13:00:00",
            ]
        )
        + "\n"
    )
    path = write(clean_cwd / "naive.csv", text)
    plain = evaluate_json(path, "2026-06-10T20:30:00Z")
    assert [r["custody_ref"] for r in plain["rejected"]] == ["N-1", "N-2", "N-3", "N-4"]
    assert all(r["error"].startswith("arrival_time: ") for r in plain["rejected"])

    out = evaluate_json(path, "2026-06-10T20:30:00Z", "--naive-timezone", "Europe/London")
    assert [(r["row"], r["custody_ref"]) for r in out["rejected"]] == [(2, "N-2"), (3, "N-3")]
    assert all(r["error"].startswith("arrival_time: ") for r in out["rejected"])
    assert "ambiguous" in out["rejected"][1]["error"]
    durations = [f for f in out["findings"] if f["rule"] == "child_detention_duration"]
    # 13:00 BST is 12:00Z, so eight hours later is 20:00Z.
    assert [(f["custody_ref"], f["since"]) for f in durations] == [("N-1", "2026-06-10T20:00:00Z")]

    winter = evaluate_json(path, "2026-12-10T21:30:00Z", "--naive-timezone", "Europe/London")
    durations = [f for f in winter["findings"] if f["rule"] == "child_detention_duration"]
    # 13:00 GMT is 13:00Z, so eight hours later is 21:00Z.
    assert ("N-4", "2026-12-10T21:00:00Z") in [(f["custody_ref"], f["since"]) for f in durations]


# --- config -----------------------------------------------------------------------------------


def child_feed(directory: Path) -> Path:
    return write(
        directory / "child.csv",
        "\n".join([CSV_HEADER, "K-1,S1,2026-06-10T08:00:00Z,2012-01-01,2026-06-10T08:00:00Z", ""]),
    )


def durations_of(out: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (f["severity"], f["since"])
        for f in out["findings"]
        if f["rule"] == "child_detention_duration"
    ]


def test_a_config_option_changes_the_thresholds(clean_cwd: Path, example_text: str) -> None:
    config = write(
        clean_cwd / "cw.toml",
        example_text + '\n[rules.child_detention_duration]\nwarning_after = "4h"\n',
    )
    feed = child_feed(clean_cwd)
    assert durations_of(evaluate_json(feed, "2026-06-10T13:00:00Z")) == []
    assert durations_of(evaluate_json(feed, "2026-06-10T13:00:00Z", "--config", str(config))) == [
        ("warning", "2026-06-10T12:00:00Z")
    ]
    assert durations_of(evaluate_json(feed, "2026-06-10T13:00:00Z", "--config", str(EXAMPLE))) == []


def test_the_config_environment_variable_changes_the_thresholds(
    tmp_path: Path, example_text: str
) -> None:
    config = write(
        tmp_path / "cw.toml",
        example_text + '\n[rules.child_detention_duration]\nwarning_after = "4h"\n',
    )
    feed = child_feed(tmp_path)
    result = cli(
        tmp_path,
        "evaluate",
        feed,
        "--at",
        "2026-06-10T13:00:00Z",
        "--format",
        "json",
        env={"CUSTODY_WATCH_CONFIG": str(config)},
    )
    assert result.returncode == 0, result.stderr
    assert durations_of(json.loads(result.stdout)) == [("warning", "2026-06-10T12:00:00Z")]


def test_the_default_config_file_in_the_working_directory_is_used(
    tmp_path: Path, example_text: str
) -> None:
    (tmp_path / "config").mkdir()
    write(
        tmp_path / "config/custody-watch.toml",
        example_text + '\n[rules.child_detention_duration]\nwarning_after = "4h"\n',
    )
    result = cli(
        tmp_path,
        "evaluate",
        child_feed(tmp_path),
        "--at",
        "2026-06-10T13:00:00Z",
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    assert durations_of(json.loads(result.stdout)) == [("warning", "2026-06-10T12:00:00Z")]


# --- table output -----------------------------------------------------------------------------


def test_the_table_shows_local_times_and_durations_in_summer(clean_cwd: Path) -> None:
    feed = child_feed(clean_cwd)
    result = invoke("evaluate", str(feed), "--at", "2026-06-10T16:00:00Z")
    out = result.stdout
    assert "BST" in out
    assert "09:00 BST" in out  # arrival 08:00Z
    assert "8h" in out  # held 8h
    assert "child_detention_duration" in out
    assert "K-1" in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


def test_the_table_shows_gmt_in_winter_and_rejected_rows(clean_cwd: Path) -> None:
    feed = write(
        clean_cwd / "winter.csv",
        "\n".join(
            [
                CSV_HEADER,
                "W-1,S1,2026-12-10T08:00:00Z,2012-01-01,2026-12-10T08:00:00Z",
                "W-2,S1,2026-12-10T08:00:00,2012-01-01,",
                "",
            ]
        ),
    )
    out = invoke("evaluate", str(feed), "--at", "2026-12-10T16:00:00Z", "--format", "table").stdout
    assert "08:00 GMT" in out
    assert "BST" not in out
    assert "8h" in out
    assert "W-2" in out
    assert "arrival_time:" in out


def test_the_table_for_an_empty_file_says_there_is_nothing(clean_cwd: Path) -> None:
    out = invoke("evaluate", str(write(clean_cwd / "e.csv", "")), "--at", AT).stdout
    assert "0 detentions" in out
    assert "0 findings" in out


# --- exit status ------------------------------------------------------------------------------


def test_an_empty_file_exits_0(tmp_path: Path) -> None:
    result = cli(
        tmp_path, "evaluate", write(tmp_path / "e.csv", ""), "--at", AT, "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["findings"] == []
    assert result.stderr == ""


def test_a_file_whose_rows_are_all_rejected_exits_0(tmp_path: Path) -> None:
    feed = write(tmp_path / "bad.jsonl", '[]\n{"suite": "S"}\nnot json\n')
    result = cli(tmp_path, "evaluate", feed, "--at", AT, "--format", "json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["findings"] == []
    assert [r["row"] for r in out["rejected"]] == [1, 2, 3]
    table = cli(tmp_path, "evaluate", feed, "--at", AT)
    assert table.returncode == 0, table.stderr


def test_a_missing_records_file_exits_2_with_one_line(tmp_path: Path) -> None:
    assert_one_line_error(cli(tmp_path, "evaluate", "absent.csv", "--at", AT), "absent.csv")


def test_an_unknown_extension_exits_2_with_one_line(tmp_path: Path) -> None:
    feed = write(tmp_path / "feed.txt", FEED)
    assert_one_line_error(cli(tmp_path, "evaluate", feed, "--at", AT), "feed.txt")


def test_bytes_that_are_not_utf8_exit_2_with_one_line(tmp_path: Path) -> None:
    feed = tmp_path / "latin.csv"
    feed.write_bytes(b"custody_ref,suite,arrival_time\nC-1,S\xe9,2026-06-10T12:00:00Z\n")
    assert_one_line_error(cli(tmp_path, "evaluate", feed, "--at", AT), "latin.csv", "UTF-8")


@pytest.mark.parametrize("at", ["2026-06-10T21:00:00", "tomorrow", ""])
def test_an_at_without_an_offset_exits_2_with_one_line(tmp_path: Path, at: str) -> None:
    feed = write(tmp_path / "feed.csv", FEED)
    assert_one_line_error(cli(tmp_path, "evaluate", feed, "--at", at), "--at")


def test_a_config_with_an_unknown_key_exits_2_naming_the_key(
    tmp_path: Path, example_text: str
) -> None:
    config = write(
        tmp_path / "bad.toml", example_text + '\n[rules.pace_limit]\nbasic_limt = "1h"\n'
    )
    line = assert_one_line_error(
        cli(
            tmp_path, "evaluate", write(tmp_path / "feed.csv", FEED), "--at", AT, "--config", config
        ),
        "bad.toml",
        "rules.pace_limit.basic_limt",
    )
    assert "unknown key" in line


def test_a_config_that_does_not_exist_exits_2_naming_it(tmp_path: Path) -> None:
    assert_one_line_error(
        cli(
            tmp_path,
            "evaluate",
            write(tmp_path / "feed.csv", FEED),
            "--at",
            AT,
            "--config",
            "nope.toml",
        ),
        "nope.toml",
    )


def test_a_bad_config_named_by_the_environment_exits_2(tmp_path: Path) -> None:
    config = write(tmp_path / "env.toml", '[web]\nack_link_ttl = "soon"\n')
    assert_one_line_error(
        cli(
            tmp_path,
            "evaluate",
            write(tmp_path / "feed.csv", FEED),
            "--at",
            AT,
            env={"CUSTODY_WATCH_CONFIG": str(config)},
        ),
        "web.ack_link_ttl",
    )


def test_an_unknown_naive_timezone_exits_2_with_one_line(tmp_path: Path) -> None:
    assert_one_line_error(
        cli(
            tmp_path,
            "evaluate",
            write(tmp_path / "feed.csv", FEED),
            "--at",
            AT,
            "--naive-timezone",
            "Mars/Base",
        ),
        "--naive-timezone",
        "Mars/Base",
    )


def test_a_missing_at_option_exits_2_with_one_line(tmp_path: Path) -> None:
    assert_one_line_error(cli(tmp_path, "evaluate", write(tmp_path / "feed.csv", FEED)), "--at")


def test_an_at_outside_the_representable_range_exits_2_with_one_line(tmp_path: Path) -> None:
    assert_one_line_error(
        cli(
            tmp_path,
            "evaluate",
            write(tmp_path / "feed.csv", FEED),
            "--at",
            "0001-01-01T00:00:00+01:00",
        ),
        "--at",
    )


def test_a_record_at_the_end_of_time_does_not_crash_evaluate(tmp_path: Path) -> None:
    feed = write(
        tmp_path / "end.csv", "custody_ref,suite,arrival_time\nE-1,S,9999-12-31T23:00:00Z\n"
    )
    result = cli(tmp_path, "evaluate", feed, "--at", "9999-12-31T23:30:00Z", "--format", "json")
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 2)


# --- check-config -----------------------------------------------------------------------------


def test_check_config_accepts_the_example_config(tmp_path: Path, example_text: str) -> None:
    result = cli(tmp_path, "check-config", "--config", EXAMPLE)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
    assert "suite-a" in result.stdout


def test_check_config_without_a_file_reports_the_built_in_defaults(tmp_path: Path) -> None:
    result = cli(tmp_path, "check-config")
    assert result.returncode == 0, result.stderr
    assert "built-in defaults" in result.stdout


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('kind = "csv_folder"', 'kind = "csv_folder"\nfolder = "x"', "sources[0].folder"),
        ('person = "supt-b"', 'person = "supt-c"', "rota[1].person"),
        ('poll_every = "1m"', 'poll_every = "1 minute"', "sources[0].poll_every"),
    ],
)
def test_check_config_exits_2_naming_the_key_of_a_bad_config(
    tmp_path: Path, example_text: str, old: str, new: str, key: str
) -> None:
    assert old in example_text
    config = write(tmp_path / "bad.toml", example_text.replace(old, new, 1))
    assert_one_line_error(cli(tmp_path, "check-config", "--config", config), "bad.toml", key)


# --- hostile feeds (issue 10): every row is read or rejected, no traceback, exit 0 ----------


HOSTILE_AT = "2026-06-10T20:00:00Z"


@pytest.mark.parametrize(
    ("cell", "field"),
    [
        ("9" * 5000, "prior_detention_minutes"),
        ("5256000000", "prior_detention_minutes"),
        ("\u0663\u0660", "prior_detention_minutes"),
    ],
)
def test_evaluate_rejects_minutes_that_would_overflow_the_rules_and_exits_0(
    clean_cwd: Path, cell: str, field: str
) -> None:
    feed = clean_cwd / "minutes.csv"
    feed.write_text(
        "custody_ref,suite,arrival_time,legal_basis,prior_detention_minutes\n"
        "C-1,S1,2026-06-10T08:00:00Z,bail_return,30\n"
        f"C-2,S1,2026-06-10T08:00:00Z,bail_return,{cell}\n",
        encoding="utf-8",
    )
    out = evaluate_json(feed, HOSTILE_AT)
    [rejected] = out["rejected"]
    assert (rejected["row"], rejected["custody_ref"]) == (2, "C-2")
    assert rejected["error"].startswith(f"{field}: ")
    assert len(rejected["error"]) < 200
    assert {f["custody_ref"] for f in out["findings"]} == {"C-1"}


def test_evaluate_reads_on_after_an_unbalanced_quote(clean_cwd: Path) -> None:
    feed = clean_cwd / "quote.csv"
    feed.write_text(
        "custody_ref,suite,arrival_time,person_ref\n"
        "C-1,S1,2026-06-10T08:00:00Z,p\n"
        'C-2,S1,2026-06-10T08:00:00Z,"open\n'
        "C-3,S1,2026-06-10T08:00:00Z,p\n",
        encoding="utf-8",
    )
    out = evaluate_json(feed, HOSTILE_AT)
    assert [(r["row"], r["error"].split(":")[0]) for r in out["rejected"]] == [(2, "person_ref")]
    assert {f["custody_ref"] for f in out["findings"]} == {"C-1", "C-3"}


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("C-1,S1,2026-06-10T08:00:00Z\n", "header: nohead.csv: no header row"),
        ("custody_ref,arrival_time,suite,suite\nC-1,2026-06-10T08:00:00Z,a,b\n", "header: "),
    ],
)
def test_evaluate_reports_a_whole_file_problem_once_as_row_0_and_exits_0(
    clean_cwd: Path, text: str, said: str
) -> None:
    feed = clean_cwd / "nohead.csv"
    feed.write_text(text, encoding="utf-8")
    out = evaluate_json(feed, HOSTILE_AT)
    assert out["findings"] == []
    [rejected] = out["rejected"]
    assert (rejected["row"], rejected["custody_ref"]) == (0, None)
    assert rejected["error"].startswith(said) and "nohead.csv" in rejected["error"]


def test_evaluate_of_a_utf16_file_exits_2_with_one_line(tmp_path: Path) -> None:
    feed = tmp_path / "wide.csv"
    feed.write_text(f"{CSV_HEADER}\nC-1,S1,2026-06-10T08:00:00Z,,\n", encoding="utf-16")
    done = cli(tmp_path, "evaluate", feed, "--at", "2026-06-10T20:00:00Z")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "wide.csv" in done.stderr and "UTF-8" in done.stderr
