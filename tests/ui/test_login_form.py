"""Checking the connect form's fields before any network traffic."""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop_tui.ui.login_form import LoginForm, login_complete, read_form

from .fakes import PASSWORD, make_login


def form(**changes: str) -> LoginForm:
    fields = {
        "host": "203.0.113.10",
        "port": "22",
        "user": "root",
        "password": PASSWORD,
        "key_file": "",
    }
    fields.update(changes)
    return LoginForm(
        host=fields["host"],
        port=fields["port"],
        user=fields["user"],
        password=fields["password"],
        key_file=fields["key_file"],
    )


def test_form_complete_gives_login() -> None:
    result = read_form(form(host=" 203.0.113.10 ", port=" 2222 "))
    assert result.errors == {}
    assert result.login is not None
    assert result.login.host == "203.0.113.10"
    assert result.login.port == 2222
    assert result.login.password == PASSWORD


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"host": ""}, "host", "Enter the host name or address from your slip."),
        ({"host": "a b"}, "host", "The host must not contain spaces."),
        ({"port": ""}, "port", "Enter the SSH port (22 unless your slip says otherwise)."),
        ({"port": "twenty"}, "port", "The port must be a number, such as 22, not 'twenty'."),
        ({"port": "70000"}, "port", "The port must be between 1 and 65535."),
        ({"port": "0"}, "port", "The port must be between 1 and 65535."),
        ({"user": ""}, "user", "Enter the user name from your slip."),
        ({"user": "ro ot"}, "user", "The user name must not contain spaces, @ or :."),
        ({"password": ""}, "password", "Enter the password from your slip."),
    ],
)
def test_form_field_errors(changes: dict[str, str], field: str, message: str) -> None:
    result = read_form(form(**changes))
    assert result.login is None
    assert result.errors == {field: message}


def test_form_reports_every_field() -> None:
    result = read_form(form(host="", port="x", user=""))
    assert set(result.errors) == {"host", "port", "user"}


def test_form_key_file_replaces_password(tmp_path: Path) -> None:
    key = tmp_path / "id_ed25519"
    key.write_text("key\n")
    result = read_form(form(password="", key_file=str(key)))
    assert result.login is not None
    assert result.login.key_file == key
    assert result.login.password is None


def test_form_missing_key_file(tmp_path: Path) -> None:
    result = read_form(form(key_file=str(tmp_path / "missing")))
    assert "No key file at" in result.errors["key_file"]


def test_login_complete_needs_secret() -> None:
    assert login_complete(make_login())
    assert not login_complete(make_login(password=None))
