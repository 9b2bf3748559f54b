"""Running a command as root through sudo without the password ever reaching it."""

from __future__ import annotations

import shlex
from collections.abc import Callable

from workshop_tui.core.errors import SudoFailed
from workshop_tui.core.hostkeys import format_host_port
from workshop_tui.core.login import Login

# Runs as the login user: validates the password with one `sudo -v` whose stdin holds
# only the password, so a wrong password costs one attempt and nothing else is read as a
# password. The second sudo finds sudo's cached credentials or reads the second password
# line. When it reads neither (NOPASSWD), the inner loop as root discards lines up to the
# random marker, so the command's stdin starts after the marker and can never contain
# the password. Failures print the random token first so the client can recognize them.
_SUDO_WRAPPER = r"""t=$1 m=$2 c=$3
if [ "$4" = S ]; then
  IFS= read -r p || p=
  if ! e=$(printf '%s\n' "$p" | sudo -S -p '' -v 2>&1); then
    p=; printf '%s\n%s\n' "$t" "$e" >&2; exit 1
  fi
  p=
  exec sudo -S -p '' -- sh -c \
    'while IFS= read -r l; do [ "$l" = "$1" ] && exec sh -c "$2"; done; exit 1' sh "$m" "$c"
fi
if ! e=$(sudo -n -v 2>&1 </dev/null); then printf '%s\n%s\n' "$t" "$e" >&2; exit 1; fi
exec sudo -n -- sh -c "$c"
"""


def build_sudo_command(command: str, *, token: str, marker: str, with_password: bool) -> str:
    """Return the remote command line that runs ``command`` as root through sudo.

    With ``with_password``, the stdin sent must start with the password line twice and
    then ``marker`` on its own line; ``sudo_stdin_prefix`` builds that prefix.
    """
    mode = "S" if with_password else "n"
    args = [_SUDO_WRAPPER, "sh", token, marker, command, mode]
    return "sh -c " + " ".join(shlex.quote(arg) for arg in args)


def sudo_stdin_prefix(password: str, marker: str) -> bytes:
    """Return the stdin bytes that precede the command's own stdin under sudo."""
    if any(ch in password for ch in "\r\n\0"):
        raise SudoFailed(
            "The password contains a line break or NUL character, which sudo cannot read. "
            "Log in as root instead, or use a password without such characters."
        )
    line = password.encode("utf-8") + b"\n"
    return line + line + marker.encode("ascii") + b"\n"


def sudo_failure_message(login: Login, sudo_output: str) -> str:
    """Return a message that says what to do about sudo's error output ``sudo_output``."""
    where = f"on {format_host_port(login.host, login.port)}"
    if "not found" in sudo_output and "sudo" in sudo_output:
        return (
            f"sudo is not installed {where}. Log in as root and run "
            "'apt-get install sudo', or ask a facilitator."
        )
    if "Sorry, try again" in sudo_output or "incorrect password" in sudo_output:
        return (
            f"sudo rejected the password of {login.user} {where}. sudo asks for the "
            "login password of that user: check the password on your slip."
        )
    refusals = ("not in the sudoers file", "not allowed to", "may not run sudo")
    if any(text in sudo_output for text in refusals):
        return (
            f"{login.user} is not allowed to use sudo {where}. Log in as root, or ask "
            f"a facilitator to add {login.user} to the sudo group."
        )
    if "password is required" in sudo_output or "no password was provided" in sudo_output:
        return (
            f"sudo {where} needs the password of {login.user}, but none was given. "
            "Enter the login password, or log in as root."
        )
    detail = sudo_output.strip().splitlines()[-1] if sudo_output.strip() else "no message"
    return f"sudo failed {where}: {detail}"


class TokenFilter:
    """Hold back stderr while it may still be the sudo failure token, so the token never
    reaches the live output."""

    def __init__(self, token: bytes, forward: Callable[[bytes], None] | None) -> None:
        self.token = token + b"\n"
        self.forward = forward
        self.pending = b""
        self.state = "undecided"

    def __call__(self, chunk: bytes) -> None:
        if self.state == "undecided":
            self.pending += chunk
            if self.pending.startswith(self.token):
                self.state = "failed"
            elif not self.token.startswith(self.pending):
                self.state = "passing"
                chunk, self.pending = self.pending, b""
            else:
                return
        if self.state == "passing" and self.forward is not None:
            self.forward(chunk)
