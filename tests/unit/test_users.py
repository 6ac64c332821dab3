"""The rules for secretariat users that need no database: names, roles, passwords, tokens."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from workflow import users
from workflow.users import User, UserError


@pytest.mark.parametrize("name", ["anne", "Anne ", "a.b-c_d", "sekretariat@kkr.example", "k2"])
def test_names_that_are_allowed(name: str) -> None:
    assert users.check_name(name) == name.strip().lower()


@pytest.mark.parametrize("name", ["", "a", "-anne", "an ne", "anne/x", "æble", "x" * 81])
def test_names_that_are_refused(name: str) -> None:
    with pytest.raises(UserError, match="kan ikke bruges"):
        users.check_name(name)


def test_roles() -> None:
    assert [users.check_role(r) for r in ("admin", "viewer")] == ["admin", "viewer"]
    with pytest.raises(UserError, match="admin eller viewer"):
        users.check_role("owner")


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("kort", "mindst 8 tegn"),
        (" mellemrum-foran", "mellemrum"),
        ("mellemrum-bagefter ", "mellemrum"),
        ("x" * (users.MAX_PASSWORD_LENGTH + 1), "højst"),
    ],
)
def test_passwords_that_are_refused(password: str, problem: str) -> None:
    with pytest.raises(UserError, match=problem):
        users.check_password(password)


def test_a_good_password_and_the_lockout_rule() -> None:
    assert users.check_password("korrekt hest batteri") == "korrekt hest batteri"
    assert users.MAX_FAILURES == 5 and users.LOCKOUT.total_seconds() == 15 * 60


def test_token_digest_is_sha256_hex() -> None:
    digest = users.token_digest("aft_x")
    assert len(digest) == 64 and digest == users.token_digest("aft_x")
    assert digest != users.token_digest("aft_y")


def test_a_user_acts_under_its_name() -> None:
    at = datetime(2022, 4, 4, tzinfo=UTC)
    admin = User(1, "anne", "admin", 1, None, None, False, at)
    viewer = User(2, "viggo", "viewer", 1, None, None, True, at)
    assert admin.is_admin and not viewer.is_admin
    assert admin.actor == "user:anne"
