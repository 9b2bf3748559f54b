"""Setting up and resetting the two lab hosts on which the diagnosis tests recreate faults.

Every command runs as root over SSH on a lab host. Every client conversation goes from
one lab host to the other, so nothing leaves the lab.
"""

from __future__ import annotations

import shlex
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.lab.support import root_run
from workshop_tui.core.checks import CheckResult
from workshop_tui.core.diagnosis import Finding
from workshop_tui.core.hostkeys import KnownHosts
from workshop_tui.core.lessons import Lesson
from workshop_tui.core.progress import ProgressStore
from workshop_tui.core.session import Session
from workshop_tui.lab import LabHost

from .conftest import login_for

MAIL_PACKAGES = ("postfix", "dovecot-imapd", "mutt", "swaks", "python3")

ORIGINALS = "/root/diagnosis-originals"
"""Where the configuration after a clean install is kept, to restore it between faults."""

UNUSED_MAC = "02:00:00:00:00:99"
"""A locally administered MAC address that no lab host has: frames sent to it get no
answer, so TCP connections time out as behind a firewall that drops them."""


def run(host: LabHost, command: str, timeout: float = 300) -> str:
    """Run ``command`` as root on ``host``; fail the test with its output if it fails."""
    status, out, err = root_run(host, command, timeout)
    assert status == 0, f"{host.name}: `{command}` exited with {status}:\n{out}\n{err}"
    return out


def preseeded_install(host: LabHost) -> None:
    """Install the mail packages the way a lesson does: answers preseeded, no questions."""
    selections = (
        f"postfix postfix/mailname string {host.fqdn}\n"
        "postfix postfix/main_mailer_type select Internet Site\n"
    )
    run(
        host,
        f"printf %s {shlex.quote(selections)} | debconf-set-selections && "
        "DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
        f"{' '.join(MAIL_PACKAGES)} >/tmp/install.log 2>&1 || "
        "{ tail -n 30 /tmp/install.log; exit 1; }",
        timeout=600,
    )


def save_originals(host: LabHost) -> None:
    run(
        host,
        f"rm -rf {ORIGINALS} && mkdir -p {ORIGINALS} && "
        f"cp -a /etc/postfix /etc/dovecot {ORIGINALS}/",
    )


# Restores what a fault changed, restarting only the services whose configuration
# differs, and then empties the journal so that the next fault starts from a clean log.
_RESET_SCRIPT = """\
set -u
umount /var/mail 2>/dev/null || true
ip neigh del {partner} dev eth0 2>/dev/null || true
for unit in postfix@- dovecot; do
  directory=${{unit%@-}}
  if ! diff -rq {originals}/$directory /etc/$directory >/dev/null 2>&1; then
    rm -rf /etc/$directory && cp -a {originals}/$directory /etc/$directory
    systemctl restart $unit || true
  fi
done
systemctl is-active -q postfix@- || systemctl restart postfix@-
systemctl is-active -q dovecot || systemctl restart dovecot
postsuper -d ALL >/dev/null 2>&1 || true
rm -f /root/.bash_history /home/*/.bash_history
journalctl --rotate >/dev/null 2>&1
sleep 1
journalctl --vacuum-time=1s >/dev/null 2>&1
systemctl is-active postfix@- dovecot
"""


def reset(host: LabHost, partner: LabHost) -> None:
    """Restore ``host``'s mail configuration, services, queue and journal."""
    script = _RESET_SCRIPT.format(
        partner=shlex.quote(partner.address), originals=shlex.quote(ORIGINALS)
    )
    out = run(host, script, timeout=120)
    assert out.split() == ["active", "active"], f"{host.name} after reset: {out}"


def send_mail(host: LabHost, recipient: str, sender: str = "root") -> None:
    """Hand a short message to the local Postfix, as `mail` or Mutt would."""
    message = f"Subject: diagnosis test\nTo: {recipient}\n\nA test message.\n"
    run(
        host,
        f"printf %s {shlex.quote(message)} | sendmail -f {shlex.quote(sender)} "
        f"{shlex.quote(recipient)}",
    )


def wait_for_journal(host: LabHost, pattern: str, timeout: int = 60) -> str:
    """Wait until the journal of ``host`` has a line matching the extended regex ``pattern``.

    Returns the newest such line.
    """
    quoted = shlex.quote(pattern)
    script = (
        f"end=$((SECONDS + {timeout}))\n"
        "while [ $SECONDS -lt $end ]; do\n"
        f"  line=$(journalctl -q --no-pager -o short-iso | grep -E -- {quoted} | tail -n 1)\n"
        '  [ -n "$line" ] && { printf "%s\\n" "$line"; exit 0; }\n'
        "  sleep 0.3\n"
        "done\n"
        "exit 1\n"
    )
    status, out, _ = root_run(host, script, timeout + 30)
    assert status == 0, f"{host.name}: no journal line matched /{pattern}/ in {timeout} s"
    return out.strip()


def python_on(host: LabHost, program: str, timeout: float = 60) -> str:
    """Run a Python program on ``host`` (read from stdin) and return its output."""
    status, out, err = root_run(host, f"python3 - <<'EOF'\n{program}\nEOF\n", timeout)
    assert status == 0, f"{host.name}: python3 exited with {status}:\n{out}\n{err}"
    return out


def pids_of(host: LabHost, command: str) -> list[int]:
    """Return the ids of the processes on ``host`` whose command name is ``command``."""
    _, out, _ = root_run(
        host, f"ps -eo pid=,comm= | awk -v name={shlex.quote(command)} '$2 == name'"
    )
    return [int(line.split()[0]) for line in out.splitlines() if line.strip()]


def wait_until_gone(host: LabHost, command: str, timeout: float = 120) -> None:
    """Wait until no process named ``command`` runs on ``host``."""
    deadline = time.monotonic() + timeout
    while pids_of(host, command):
        assert time.monotonic() < deadline, f"{command} still runs on {host.name}"
        time.sleep(1)


@dataclass
class Hosts:
    """alpha with package lists but no mail server yet, and bravo, whose mail server is
    installed in the background meanwhile."""

    alpha: LabHost
    bravo: LabHost
    bravo_installer: threading.Thread
    failures: list[BaseException] = field(default_factory=list)

    def wait_for_bravo(self) -> None:
        self.bravo_installer.join(timeout=900)
        assert not self.bravo_installer.is_alive(), "bravo's installation did not finish"
        if self.failures:
            raise self.failures[0]


def open_session(host: LabHost, directory: Path) -> Session:
    """Log in as the lab's normal user, so the diagnosis goes through sudo."""
    session = Session(
        login_for(host, as_root=False),
        known_hosts=KnownHosts(directory / "known_hosts"),
        progress_store=ProgressStore(directory / "progress.json"),
    )
    session.connect()
    return session


def diagnose_counting_execs(
    session: Session, lesson: Lesson, results: list[CheckResult]
) -> list[Finding]:
    """Diagnose and check that it took exactly one exec."""
    # The session writes its progress file on the VPS in the background; wait for that,
    # so the count covers the diagnosis alone.
    assert session.shared_writer.wait_until_idle(30)
    before = session.connection.exec_count
    findings = session.diagnose(lesson, results)
    assert session.connection.exec_count - before == 1
    return findings


def diagnosis(session: Session, lesson: Lesson, rule: str, quoted: str) -> Finding:
    """Diagnose in one exec; return the finding of ``rule``, which must quote ``quoted``."""
    findings = diagnose_counting_execs(session, lesson, [])
    print(f"\n{rule}:", *(f"  {line}" for finding in findings for line in finding.evidence))
    matching = [finding for finding in findings if finding.rule == rule]
    assert matching, f"no {rule} finding; found {[finding.rule for finding in findings]}"
    finding = matching[0]
    assert any(quoted in line for line in finding.evidence), finding.evidence
    return finding
