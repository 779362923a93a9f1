"""``custody-watch user``: people who may log in to the web side.

``user add NAME --role ROLE`` asks for the password twice (or reads one line from standard
input with ``--password-stdin``); only its argon2 hash is stored."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from custody_watch.cli.app import ConfigOption, FormatOption, OutputFormat, app
from custody_watch.cli.common import open_store, print_json
from custody_watch.clock import SystemClock
from custody_watch.config import load_settings
from custody_watch.errors import InputError
from custody_watch.store.schema import UserRow
from custody_watch.times import utc_z_or_none as z

# store.users is imported inside each command that needs it: it loads argon2 (about 50 ms),
# which every other command would pay for at start-up.

user_app = typer.Typer(
    help="Web users: add, list, set a password, disable, end sessions.", no_args_is_help=True
)
app.add_typer(user_app, name="user")


class Role(StrEnum):
    VIEWER = "viewer"
    INSPECTOR = "inspector"
    ADMIN = "admin"


PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from one line of standard input."),
]


def _password(from_stdin: bool) -> str:
    from custody_watch.store.users import check_password

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = check_password(password)
    if problem:
        raise InputError(problem)
    return password


@user_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The user name to log in with.")],
    role: Annotated[Role, typer.Option("--role", help="viewer, inspector or admin.")],
    person: Annotated[
        str | None,
        typer.Option(
            "--person", help="The person id (config people) that acknowledgements are recorded as."
        ),
    ] = None,
    password_stdin: PasswordStdin = False,
    config: ConfigOption = None,
) -> None:
    """Add a user; asks for the password twice."""
    from custody_watch.store.users import check_new_user, create_user, find_user

    settings = load_settings(config)
    if person is not None and person not in {p.id for p in settings.people}:
        raise InputError(f"--person: no person {person!r} in the config's [[people]]")
    problem = check_new_user(name, role.value, "x" * 64)
    if problem:
        raise InputError(problem)
    sessions = open_store(settings)
    with sessions() as session:
        if find_user(session, name) is not None:
            raise InputError(f"user {name!r} already exists")
    password = _password(password_stdin)
    with sessions.begin() as session:
        try:
            create_user(session, name, password, role.value, person, SystemClock().now())
        except ValueError as exc:
            raise InputError(str(exc)) from None
    typer.echo(f"user {name} added ({role.value}{f', person {person}' if person else ''})")


@user_app.command("passwd")
def passwd(
    name: Annotated[str, typer.Argument(help="The user name.")],
    password_stdin: PasswordStdin = False,
    config: ConfigOption = None,
) -> None:
    """Set a user's password (asks twice); every session of the user ends."""
    from custody_watch.store.users import find_user, set_password

    sessions = open_store(load_settings(config))
    with sessions() as session:
        if find_user(session, name) is None:
            raise InputError(f"no user {name!r}")
    password = _password(password_stdin)
    with sessions.begin() as session:
        row = find_user(session, name)
        assert row is not None
        ended = set_password(session, row, password, SystemClock().now())
    typer.echo(f"password set for {name}; {_sessions(ended)} ended")


@user_app.command("disable")
def disable(
    name: Annotated[str, typer.Argument(help="The user name.")],
    enable: Annotated[bool, typer.Option("--enable", help="Enable again instead.")] = False,
    config: ConfigOption = None,
) -> None:
    """Stop a user logging in (their sessions end at once); --enable undoes it."""
    from custody_watch.store.users import find_user, set_disabled

    with open_store(load_settings(config)).begin() as session:
        row = find_user(session, name)
        if row is None:
            raise InputError(f"no user {name!r}")
        ended = set_disabled(session, row, not enable, SystemClock().now())
    if enable:
        typer.echo(f"user {name} enabled")
    else:
        typer.echo(f"user {name} disabled; {_sessions(ended)} ended")


@user_app.command("end-sessions")
def end_sessions_command(
    name: Annotated[
        str | None, typer.Argument(help="The user whose sessions end (or --all).")
    ] = None,
    all_users: Annotated[bool, typer.Option("--all", help="End every user's sessions.")] = False,
    config: ConfigOption = None,
) -> None:
    """Log a user (or, with --all, everyone) out of the web at once."""
    from custody_watch.store.users import end_sessions, find_user

    if (name is None) == (not all_users):
        raise InputError("name one user, or give --all (not both)")
    with open_store(load_settings(config)).begin() as session:
        if name is not None and find_user(session, name) is None:
            raise InputError(f"no user {name!r}")
        ended = end_sessions(session, name, SystemClock().now())
    typer.echo(f"{_sessions(ended)} ended ({name or 'all users'})")


def _sessions(count: int) -> str:
    return f"{count} session{'' if count == 1 else 's'}"


@user_app.command("list")
def list_users(config: ConfigOption = None, output: FormatOption = OutputFormat.TABLE) -> None:
    """The users, without their password hashes."""
    from sqlalchemy import select

    with open_store(load_settings(config))() as session:
        rows = session.scalars(select(UserRow).order_by(UserRow.username)).all()
    data = [
        {
            "username": r.username,
            "role": r.role,
            "person": r.person_id,
            "disabled": r.disabled,
            "created_at": z(r.created_at),
        }
        for r in rows
    ]
    if output is OutputFormat.JSON:
        print_json({"users": data})
        return
    for item in data:
        flag = " (disabled)" if item["disabled"] else ""
        typer.echo(f"{item['username']}\t{item['role']}\t{item['person'] or '-'}{flag}")
