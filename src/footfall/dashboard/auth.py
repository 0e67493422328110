"""Dashboard users, login sessions and the one-time first-user link.

Passwords are hashed with argon2id (argon2-cffi's defaults, which track
the RFC 9106 recommendations). Session and setup tokens are random 256-bit
values handed to the browser once; the database only keeps their SHA-256,
so a copy of the database file cannot be replayed as a cookie.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from footfall.dashboard.db import execute, fetch
from footfall.errors import ValidationError
from footfall.stores import Store, connect

__all__ = [
    "SESSION_SECONDS",
    "SETUP_SECONDS",
    "Users",
    "check_new_user",
    "first_run_message",
    "valid_username",
]

SESSION_SECONDS = 30 * 24 * 3600  # a login lasts a month
SETUP_SECONDS = 24 * 3600  # the first-user link is good for a day
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # argon2 would hash megabytes happily; a login form should not
_USERNAME = re.compile(r"^[A-Za-z0-9_.@+-]{1,64}$")

_hasher = PasswordHasher()
# Verifying an unknown user against a real hash keeps the timing of "no such
# user" and "wrong password" alike.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def valid_username(name: str) -> bool:
    return bool(_USERNAME.match(name))


def _problem(name: str, password: str) -> ValidationError | None:
    if not valid_username(name):
        return ValidationError("user name", "1-64 letters, digits or _ . @ + -")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return ValidationError("password", f"{MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return None


def check_new_user(name: str, password: str) -> str:
    """Why `name`/`password` cannot make a user ("" when they can)."""
    problem = _problem(name, password)
    return str(problem) if problem else ""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Users:
    """Users and sessions kept in the store's `dashboard_*` tables."""

    store: Store

    # -- users ----------------------------------------------------------
    def count(self) -> int:
        return int(fetch(self.store, "SELECT COUNT(*) FROM dashboard_users")[0][0])

    def names(self) -> list[str]:
        return [r[0] for r in fetch(self.store, "SELECT name FROM dashboard_users ORDER BY name")]

    def add(self, name: str, password: str, *, replace: bool = False) -> None:
        """Create (or with `replace`, re-password) a user."""
        problem = _problem(name, password)
        if problem:
            raise problem
        hashed = _hasher.hash(password)
        exists = bool(fetch(self.store, "SELECT 1 FROM dashboard_users WHERE name = ?", [name]))
        if exists and not replace:
            raise ValidationError("user name", f"user {name!r} already exists")
        if exists:
            execute(
                self.store,
                "UPDATE dashboard_users SET password_hash = ? WHERE name = ?",
                [hashed, name],
            )
            self.end_sessions(name)
        else:
            execute(
                self.store,
                "INSERT INTO dashboard_users (name, password_hash, created_at) VALUES (?, ?, ?)",
                [name, hashed, int(time.time())],
            )

    def delete(self, name: str) -> bool:
        self.end_sessions(name)
        return execute(self.store, "DELETE FROM dashboard_users WHERE name = ?", [name]) > 0

    def verify(self, name: str, password: str) -> bool:
        """Whether `password` is `name`'s; rehashes when argon2's defaults moved on."""
        if len(password) > MAX_PASSWORD:
            return False
        rows = fetch(self.store, "SELECT password_hash FROM dashboard_users WHERE name = ?", [name])
        stored = rows[0][0] if rows else _DUMMY_HASH
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
        if not rows:
            return False
        if _hasher.check_needs_rehash(stored):
            execute(
                self.store,
                "UPDATE dashboard_users SET password_hash = ? WHERE name = ?",
                [_hasher.hash(password), name],
            )
        return True

    # -- sessions -------------------------------------------------------
    def start_session(self, name: str) -> str:
        """A new session token for `name` (give it to the browser, once)."""
        token = secrets.token_urlsafe(32)
        now = int(time.time())
        execute(
            self.store,
            "INSERT INTO dashboard_sessions (token_hash, username, created_at, expires_at) "
            "VALUES (?, ?, ?, ?)",
            [_digest(token), name, now, now + SESSION_SECONDS],
        )
        # Expired rows go on the way in, so the table never grows unbounded.
        execute(self.store, "DELETE FROM dashboard_sessions WHERE expires_at < ?", [now])
        return token

    def session_user(self, token: str) -> str | None:
        """The user a live session token belongs to, if any."""
        if not token or len(token) > 200:
            return None
        rows = fetch(
            self.store,
            "SELECT s.username FROM dashboard_sessions s JOIN dashboard_users u "
            "ON u.name = s.username WHERE s.token_hash = ? AND s.expires_at >= ?",
            [_digest(token), int(time.time())],
        )
        return str(rows[0][0]) if rows else None

    def end_session(self, token: str) -> None:
        execute(self.store, "DELETE FROM dashboard_sessions WHERE token_hash = ?", [_digest(token)])

    def end_sessions(self, name: str) -> None:
        execute(self.store, "DELETE FROM dashboard_sessions WHERE username = ?", [name])

    # -- the first user -------------------------------------------------
    def new_setup_token(self) -> str:
        """A one-time token that lets whoever holds it create the first user."""
        token = secrets.token_urlsafe(32)
        now = int(time.time())
        execute(self.store, "DELETE FROM dashboard_setup_tokens WHERE expires_at < ?", [now])
        execute(
            self.store,
            "INSERT INTO dashboard_setup_tokens (token_hash, expires_at) VALUES (?, ?)",
            [_digest(token), now + SETUP_SECONDS],
        )
        return token

    def setup_token_valid(self, token: str) -> bool:
        if not token or len(token) > 200 or self.count() > 0:
            return False
        rows = fetch(
            self.store,
            "SELECT 1 FROM dashboard_setup_tokens WHERE token_hash = ? AND expires_at >= ?",
            [_digest(token), int(time.time())],
        )
        return bool(rows)

    def use_setup_token(self, token: str) -> bool:
        """Consume the token; only the first caller gets True."""
        if not self.setup_token_valid(token):
            return False
        used = execute(
            self.store, "DELETE FROM dashboard_setup_tokens WHERE token_hash = ?", [_digest(token)]
        )
        if used:
            execute(self.store, "DELETE FROM dashboard_setup_tokens")
        return used > 0


def first_run_message(db_url: str, host: str, port: int, *, meta: str | None = None) -> str | None:
    """What `footfall serve` prints when nobody can log in yet: a one-time link
    (users live in the `meta` store when one is given)."""
    store = connect(db_url, meta=meta)
    try:
        users = Users(store)
        if users.count() > 0:
            return None
        token = users.new_setup_token()
    finally:
        store.close()
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - comparing
    if ":" in shown:
        shown = f"[{shown}]"
    return (
        "No dashboard user yet. Create the first one (link works once, for 24 hours):\n"
        f"  http://{shown}:{port}/setup?token={token}\n"
        "or run: footfall users add NAME"
    )
