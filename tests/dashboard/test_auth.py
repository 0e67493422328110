from __future__ import annotations

import pytest
from click.testing import CliRunner

from footfall import connect
from footfall.cli import main
from footfall.dashboard.auth import Users, first_run_message
from footfall.errors import ValidationError


@pytest.fixture
def users(db_url: str) -> Users:
    return Users(connect(db_url))


def test_passwords_are_argon2_hashes(users: Users) -> None:
    users.add("alice", "s3cret-pass")
    stored = users.store.query("SELECT password_hash FROM dashboard_users")  # type: ignore[attr-defined]
    assert stored[0][0].startswith("$argon2id$")
    assert users.verify("alice", "s3cret-pass")
    assert not users.verify("alice", "wrong-pass")
    assert not users.verify("bob", "s3cret-pass")


def test_bad_names_and_short_passwords(users: Users) -> None:
    with pytest.raises(ValidationError):
        users.add("<script>", "long enough")
    with pytest.raises(ValidationError):
        users.add("alice", "short")
    users.add("alice", "long enough")
    with pytest.raises(ValidationError):
        users.add("alice", "another one")


def test_sessions_store_only_hashes_and_end(users: Users) -> None:
    users.add("alice", "long enough")
    token = users.start_session("alice")
    assert users.session_user(token) == "alice"
    rows = users.store.query("SELECT token_hash FROM dashboard_sessions")  # type: ignore[attr-defined]
    assert token not in {r[0] for r in rows}
    assert users.session_user(token + "x") is None
    users.end_session(token)
    assert users.session_user(token) is None


def test_deleting_a_user_ends_sessions(users: Users) -> None:
    users.add("alice", "long enough")
    token = users.start_session("alice")
    assert users.delete("alice")
    assert users.session_user(token) is None


def test_first_run_link_once(db_url: str) -> None:
    message = first_run_message(db_url, "0.0.0.0", 8000)
    assert message and "http://127.0.0.1:8000/setup?token=" in message
    token = message.split("token=")[1].split()[0]
    users = Users(connect(db_url))
    assert users.setup_token_valid(token)
    assert users.use_setup_token(token)
    assert not users.use_setup_token(token)
    users.add("alice", "long enough")
    assert first_run_message(db_url, "127.0.0.1", 8000) is None


def test_cli_users_add_from_stdin(db_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["users", "add", "carol", "--db", db_url], input="pw-from-stdin\n")
    assert result.exit_code == 0, result.output
    assert Users(connect(db_url)).verify("carol", "pw-from-stdin")
    again = runner.invoke(main, ["users", "add", "carol", "--db", db_url], input="pw-from-stdin\n")
    assert again.exit_code != 0 and "already exists" in again.output
    listed = runner.invoke(main, ["users", "list", "--db", db_url])
    assert listed.stdout.split() == ["carol"]
    changed = runner.invoke(
        main,
        ["users", "passwd", "carol", "--db", db_url, "--password-stdin"],
        input="new-password\n",
    )
    assert changed.exit_code == 0, changed.output
    assert Users(connect(db_url)).verify("carol", "new-password")
    assert runner.invoke(main, ["users", "delete", "carol", "--db", db_url, "--yes"]).exit_code == 0
    assert Users(connect(db_url)).names() == []
