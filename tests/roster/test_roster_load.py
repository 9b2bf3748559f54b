"""Loading and validating roster files, with every problem at its file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop_tui.core.roster import RosterError, load_roster, team_variables
from workshop_tui.core.toml_text import scan_tables

FINGERPRINT_A = "SHA256:ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs"
FINGERPRINT_B = "SHA256:PiPoFgA5WUoziU9lZOGxNIu9egCI1CxKy3PurtWcAJ0"

# Line numbers of GOOD, used in the expected problems below:
#  1 [workshop]   2 title   3 lessons   5 [[team]]   6 name   7 host   8 user
#  9 password    10 partner   12 [[team]]   13 name   14 host   15 port   16 user
# 17 password    18 partner   19 host_key
GOOD = f"""[workshop]
title = "Mail server workshop"
lessons = ["postfix"]

[[team]]
name = "team-1"
host = "10.77.0.11"
user = "learner"
password = "secret-1"
partner = "team-2"

[[team]]
name = "team-2"
host = "vps2.example.org"
port = 2222
user = "learner"
password = "secret-2"
partner = "team-1"
host_key = ["{FINGERPRINT_A}=", "{FINGERPRINT_B}"]
"""


def write(directory: Path, text: str, name: str = "roster.toml", mode: int = 0o600) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def replace(old: str, new: str, text: str = GOOD) -> str:
    assert text.count(old) == 1, f"{old!r} must occur once"
    return text.replace(old, new)


def problems_of(path: Path, known_lessons: list[str] | None = None) -> list[str]:
    with pytest.raises(RosterError) as caught:
        load_roster(path, known_lessons)
    return list(caught.value.problems)


def test_good_roster_title_and_lessons(tmp_path: Path) -> None:
    roster = load_roster(write(tmp_path, GOOD), known_lessons=["postfix"])
    assert roster.title == "Mail server workshop"
    assert roster.lessons == ("postfix",)
    assert roster.warnings == ()


def test_good_roster_teams(tmp_path: Path) -> None:
    roster = load_roster(write(tmp_path, GOOD))
    first, second = roster.teams
    assert first.name == "team-1"
    assert first.line == 5
    assert first.login.host == "10.77.0.11"
    assert first.login.port == 22
    assert first.login.user == "learner"
    assert first.login.password == "secret-1"
    assert first.login.key_file is None
    assert first.partner == "team-2"
    assert first.host_keys == ()
    assert second.line == 12
    assert second.login.port == 2222
    # The padding "=" is dropped, as workshop_tui.core.hostkeys.fingerprint prints it.
    assert second.host_keys == (FINGERPRINT_A, FINGERPRINT_B)


def test_password_hidden_from_repr(tmp_path: Path) -> None:
    roster = load_roster(write(tmp_path, GOOD))
    assert "secret-1" not in repr(roster)


def test_title_and_workshop_table_optional(tmp_path: Path) -> None:
    text = replace('[workshop]\ntitle = "Mail server workshop"\nlessons = ["postfix"]\n', "")
    roster = load_roster(write(tmp_path, text))
    assert roster.title == "Workshop"
    assert roster.lessons == ()


def test_single_host_key_string(tmp_path: Path) -> None:
    text = replace(
        f'host_key = ["{FINGERPRINT_A}=", "{FINGERPRINT_B}"]', f'host_key = "{FINGERPRINT_B}"'
    )
    roster = load_roster(write(tmp_path, text))
    assert roster.teams[1].host_keys == (FINGERPRINT_B,)


def test_key_file_relative_to_roster(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "team1").write_text("key")
    text = replace('password = "secret-1"', 'key_file = "keys/team1"')
    roster = load_roster(write(tmp_path, text))
    assert roster.teams[0].login.key_file == tmp_path / "keys" / "team1"
    assert roster.teams[0].login.password is None


def test_team_lookup_ignores_case(tmp_path: Path) -> None:
    roster = load_roster(write(tmp_path, GOOD))
    assert roster.team("TEAM-2").name == "team-2"


def test_team_lookup_names_known_teams(tmp_path: Path) -> None:
    roster = load_roster(write(tmp_path, GOOD))
    with pytest.raises(RosterError) as caught:
        roster.team("team-3")
    assert caught.value.problems == (
        f"{roster.path}: no team named 'team-3'; the teams are: team-1, team-2",
    )


def test_partner_of(tmp_path: Path) -> None:
    roster = load_roster(write(tmp_path, GOOD))
    partner = roster.partner_of(roster.teams[0])
    assert partner is not None
    assert partner.name == "team-2"


def test_team_variables_with_partner(tmp_path: Path) -> None:
    roster = load_roster(write(tmp_path, GOOD))
    assert team_variables(roster, roster.teams[0]) == {
        "team": "team-1",
        "partner": "team-2",
        "partner_host": "vps2.example.org",
        "partner_user": "learner",
        "partner_domain": "vps2.example.org",
    }


def test_team_variables_with_domains(tmp_path: Path) -> None:
    text = replace('partner = "team-2"\n\n', 'partner = "team-2"\ndomain = "one.example.org"\n\n')
    text = replace('partner = "team-1"\n', 'partner = "team-1"\ndomain = "two.example.org"\n', text)
    roster = load_roster(write(tmp_path, text))
    assert team_variables(roster, roster.teams[0]) == {
        "team": "team-1",
        "domain": "one.example.org",
        "partner": "team-2",
        "partner_host": "vps2.example.org",
        "partner_user": "learner",
        "partner_domain": "two.example.org",
    }
    assert team_variables(roster, roster.teams[1])["partner_domain"] == "one.example.org"


def test_partner_domain_not_from_address(tmp_path: Path) -> None:
    roster = load_roster(write(tmp_path, GOOD))
    assert "partner_domain" not in team_variables(roster, roster.teams[1])


def test_team_variables_without_partner(tmp_path: Path) -> None:
    text = replace('partner = "team-2"\n', "")
    roster = load_roster(write(tmp_path, text))
    assert team_variables(roster, roster.teams[0]) == {"team": "team-1"}


def test_readable_passwords_warn(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD, mode=0o644)
    roster = load_roster(path)
    assert roster.warnings == (
        f"{path}: the roster contains passwords and other users can read it (mode 0644); "
        f"restrict it with `chmod 600 {path}`",
    )


def test_group_readable_passwords_warn(tmp_path: Path) -> None:
    roster = load_roster(write(tmp_path, GOOD, mode=0o640))
    assert len(roster.warnings) == 1


def test_readable_key_file_roster_no_warning(tmp_path: Path) -> None:
    (tmp_path / "k").write_text("key")
    text = replace('password = "secret-1"', 'key_file = "k"')
    text = replace('password = "secret-2"', 'key_file = "k"', text)
    roster = load_roster(write(tmp_path, text, mode=0o644))
    assert roster.warnings == ()


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nosuch.toml"
    assert problems_of(path) == [f"{path}: roster file not found; check the path"]


# Each case: the change to GOOD, then the expected problems as (line, text in the message).
BROKEN_CASES: dict[str, tuple[str, str, list[tuple[int, str]]]] = {
    "toml syntax": (
        'user = "learner"\npassword = "secret-1"',
        'user = "learner\n',
        [(8, "invalid TOML")],
    ),
    "title type": (
        'title = "Mail server workshop"',
        "title = 5",
        [(2, "title must be a non-empty string, not the number 5")],
    ),
    "workshop unknown key": (
        'title = "Mail server workshop"',
        'titel = "x"',
        [(2, "unknown key 'titel' in [workshop]; did you mean 'title'?")],
    ),
    "lessons type": (
        'lessons = ["postfix"]',
        'lessons = "postfix"',
        [(3, "lessons must be a list of lesson ids")],
    ),
    "missing host": ('host = "10.77.0.11"', "", [(5, "team 'team-1' is missing 'host'")]),
    "missing user": (
        'user = "learner"\npassword = "secret-1"',
        'password = "secret-1"',
        [(5, "team 'team-1' is missing 'user'")],
    ),
    "missing name": (
        'name = "team-1"',
        "# no name",
        [(5, "this team is missing 'name'"), (18, "partner 'team-1' is not a team in this roster")],
    ),
    "no password": (
        'password = "secret-1"',
        "# no password",
        [(5, "team 'team-1' has no password or key_file; add one of them")],
    ),
    "password and key_file": (
        'password = "secret-1"',
        'password = "secret-1"\nkey_file = "present.key"',
        [(10, "team 'team-1' has both a password and a key_file; keep only one")],
    ),
    "key_file missing": (
        'password = "secret-1"',
        'key_file = "missing.key"',
        [(9, "missing.key not found; check key_file")],
    ),
    "port string": (
        "port = 2222",
        'port = "2222"',
        [(15, "port must be a number from 1 to 65535, not the string '2222'")],
    ),
    "port zero": (
        "port = 2222",
        "port = 0",
        [(15, "port must be a number from 1 to 65535, not the number 0")],
    ),
    "port too large": ("port = 2222", "port = 65536", [(15, "not the number 65536")]),
    "domain with user": (
        'partner = "team-2"\n\n',
        'partner = "team-2"\ndomain = "learner@vps1.example.org"\n\n',
        [(11, "domain 'learner@vps1.example.org' is not a mail domain")],
    ),
    "domain without dot": (
        'partner = "team-2"\n\n',
        'partner = "team-2"\ndomain = "localhost"\n\n',
        [(11, "domain 'localhost' is not a mail domain")],
    ),
    "port boolean": ("port = 2222", "port = true", [(15, "not true")]),
    "host type": (
        'host = "10.77.0.11"',
        "host = 10",
        [(7, "host must be a string in quotes, not the number 10")],
    ),
    "host with user": (
        'host = "10.77.0.11"',
        'host = "learner@10.77.0.11"',
        [(7, "host 'learner@10.77.0.11' contains '@'")],
    ),
    "user with spaces": (
        'user = "learner"\npassword = "secret-1"',
        'user = "the learner"\npassword = "secret-1"',
        [(8, "user 'the learner' contains spaces")],
    ),
    "empty password": ('password = "secret-1"', 'password = ""', [(9, "password is empty")]),
    "unknown key": (
        'password = "secret-1"',
        'pasword = "secret-1"',
        [
            (5, "has no password or key_file"),
            (
                9,
                "unknown key 'pasword' in [[team]]; did you mean 'password'? known keys: "
                "domain, host, host_key, key_file, name, partner, password, port, user",
            ),
        ],
    ),
    "unknown partner": (
        'partner = "team-2"',
        'partner = "team-9"',
        [(10, "partner 'team-9' is not a team in this roster; check its name")],
    ),
    "partner is itself": (
        'partner = "team-2"',
        'partner = "TEAM-1"',
        [(10, "team 'team-1' cannot be its own partner")],
    ),
    "partner type": (
        'partner = "team-2"',
        "partner = 2",
        [(10, "partner must be a string in quotes, not the number 2")],
    ),
    "host_key prefix": (
        f'"{FINGERPRINT_B}"]',
        '"MD5:ab:cd"]',
        [(19, "invalid host_key 'MD5:ab:cd'; write the SHA256 fingerprint")],
    ),
    "host_key length": (
        f'"{FINGERPRINT_B}"]',
        '"SHA256:abcd"]',
        [(19, "invalid host_key 'SHA256:abcd'")],
    ),
    "host_key type": (
        f'host_key = ["{FINGERPRINT_A}=", "{FINGERPRINT_B}"]',
        "host_key = 5",
        [(19, "host_key must be a fingerprint")],
    ),
    "unknown table": (
        '[[team]]\nname = "team-2"',
        '[teams]\nname = "team-2"',
        [(10, "partner 'team-2' is not a team"), (12, "unknown top-level key or table 'teams'")],
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN_CASES))
def test_broken_roster(tmp_path: Path, case: str) -> None:
    old, new, expected = BROKEN_CASES[case]
    (tmp_path / "present.key").write_text("key")
    path = write(tmp_path, replace(old, new))
    problems = problems_of(path)
    assert len(problems) == len(expected), problems
    for problem, (line, text) in zip(problems, expected, strict=True):
        assert problem.startswith(f"{path}:{line}: "), problem
        assert text in problem


def test_duplicate_team_name_names_both_lines(tmp_path: Path) -> None:
    text = replace('name = "team-2"', 'name = "TEAM-1"')
    text = replace('partner = "team-2"', "# no partner", text)
    text = replace('partner = "team-1"', "# no partner", text)
    path = write(tmp_path, text)
    assert problems_of(path) == [
        f"{path}:13: duplicate team name 'TEAM-1': line 6 already names team 'team-1' "
        "(names ignore case); give each team its own name"
    ]


def test_unknown_lesson_lists_known(tmp_path: Path) -> None:
    path = write(tmp_path, replace('lessons = ["postfix"]', 'lessons = ["postfix", "rspamd"]'))
    assert problems_of(path, known_lessons=["postfix", "dovecot"]) == [
        f"{path}:3: unknown lesson 'rspamd'; the known lessons are: dovecot, postfix"
    ]


def test_lessons_unchecked_without_known(tmp_path: Path) -> None:
    path = write(tmp_path, replace('lessons = ["postfix"]', 'lessons = ["rspamd"]'))
    assert load_roster(path).lessons == ("rspamd",)


def test_no_teams(tmp_path: Path) -> None:
    path = write(tmp_path, '[workshop]\ntitle = "Empty"\n')
    assert problems_of(path) == [
        f"{path}:1: the roster has no teams; add a [[team]] table for each team"
    ]


def test_single_bracket_team(tmp_path: Path) -> None:
    path = write(tmp_path, '[workshop]\n\n[team]\nname = "a"\n')
    assert problems_of(path) == [
        f"{path}:3: write each team as [[team]] with double brackets, not [team]"
    ]


def test_syntax_error_at_end(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + 'password = "again"\n')
    problems = problems_of(path)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:20: invalid TOML: Cannot overwrite a value")


def test_all_problems_reported_in_line_order(tmp_path: Path) -> None:
    text = replace("port = 2222", "port = 0")
    text = replace('title = "Mail server workshop"', "title = 5", text)
    text = replace('partner = "team-2"', 'partner = "nobody"', text)
    problems = problems_of(write(tmp_path, text))
    lines = [int(problem.split(":")[1]) for problem in problems]
    assert lines == [2, 10, 15]


def test_scan_skips_multiline_strings() -> None:
    text = 'password = """\nport = 1\n[[team]]\n"""\n[[team]]\nport = 2\n'
    tables = scan_tables(text)
    assert [(table.name, table.header) for table in tables] == [("", 1), ("team", 5)]
    assert tables[0].keys == {"password": 1}
    assert tables[1].keys == {"port": 6}


def test_unreadable_file_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "roster.toml"
    path.write_bytes(b'title = "\xff"\n')
    problems = problems_of(path)
    assert problems == [
        f"{path}: the roster is not UTF-8 text (invalid start byte); save it as UTF-8"
    ]
