"""Every diagnosis rule against its fault, recreated on real lab hosts.

alpha is the attendee's server; bravo plays the other side (a mail program, another
mail server). Each test recreates one fault, runs the diagnosis of the attendee's
session and checks that a finding names the rule and quotes the line that proves it.
Before each test both hosts get their configuration back and an empty journal.
"""

from __future__ import annotations

import secrets
import shlex
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.lab.support import connect, lab_skip_reason
from workshop_tui.core.lessons import Lesson, load_catalog
from workshop_tui.core.session import Session
from workshop_tui.lab import Lab, LabHost

from .diagnosis_support import (
    UNUSED_MAC,
    Hosts,
    diagnose_counting_execs,
    diagnosis,
    open_session,
    pids_of,
    preseeded_install,
    python_on,
    reset,
    run,
    save_originals,
    send_mail,
    wait_for_journal,
    wait_until_gone,
)

pytestmark = pytest.mark.lab

SUBMISSION_LESSON = """\
---
id: diagnosis-probe
title: Submission
summary: A step whose check tries the submission port.
---

## Send with a login

```check smtp
port: 587
```
"""


@pytest.fixture(scope="module")
def hosts() -> Iterator[Hosts]:
    reason = lab_skip_reason()
    if reason is not None:
        pytest.skip(reason)
    lab = Lab(f"diag-{secrets.token_hex(3)}")
    try:
        alpha, bravo = lab.up(2)
        failures: list[BaseException] = []

        def install_bravo() -> None:
            try:
                run(bravo, "apt-get update -q >/dev/null")
                preseeded_install(bravo)
            except BaseException as error:  # Raised again by Hosts.wait_for_bravo.
                failures.append(error)

        worker = threading.Thread(target=install_bravo, daemon=True)
        worker.start()
        found = Hosts(alpha, bravo, worker, failures)
        try:
            run(alpha, "apt-get update -q >/dev/null")
            yield found
        finally:
            worker.join(timeout=900)
    finally:
        lab.down()


@pytest.fixture(scope="module")
def lesson(tmp_path_factory: pytest.TempPathFactory) -> Lesson:
    directory = tmp_path_factory.mktemp("lessons")
    (directory / "diagnosis-probe.md").write_text(SUBMISSION_LESSON, encoding="utf-8")
    found = load_catalog([directory]).get("diagnosis-probe")
    assert found is not None
    return found


@pytest.fixture(scope="module")
def alpha_session(hosts: Hosts, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    session = open_session(hosts.alpha, tmp_path_factory.mktemp("alpha"))
    yield session
    session.close()


def test_installer_waiting(hosts: Hosts, alpha_session: Session, lesson: Lesson) -> None:
    alpha = hosts.alpha
    # An SSH exec without a terminal and without preseeded answers, as when a command
    # is pasted into `ssh host '...'`: debconf falls back to asking on stdin and waits.
    client = connect(alpha, "root", alpha.root_password)
    try:
        # Keep the channel's stdin open: its EOF would count as an answer.
        stdin, _, _ = client.exec_command("apt-get install -y postfix")
        deadline = time.monotonic() + 180
        finding = None
        while finding is None:
            assert time.monotonic() < deadline, "the installer never showed as waiting"
            time.sleep(2)
            findings = alpha_session.diagnose(lesson, [])
            finding = next((f for f in findings if f.rule == "installer-waiting"), None)
        print("\ninstaller-waiting:", *(f"  {line}" for line in finding.evidence))
        assert "`postfix`" in finding.hint
        assert any(" configure" in line and "/var/lib/dpkg/" in line for line in finding.evidence)
        [frontend] = pids_of(alpha, "frontend")
        assert f"sudo kill {frontend}" in finding.hint
        assert not stdin.closed
    finally:
        # The hint's own remedy: stopping debconf's frontend ends the installation.
        for pid in pids_of(alpha, "frontend"):
            run(alpha, f"kill {pid}")
        client.close()
        wait_until_gone(alpha, "apt-get")
        run(
            alpha,
            "DEBIAN_FRONTEND=noninteractive dpkg --configure -a && "
            "DEBIAN_FRONTEND=noninteractive apt-get purge -y -q postfix >/dev/null && "
            "echo PURGE | debconf-communicate postfix >/dev/null",
        )


@pytest.fixture(scope="module")
def mail_hosts(hosts: Hosts) -> tuple[LabHost, LabHost]:
    """Both hosts with Postfix, Dovecot and the client tools, and their configuration saved."""
    preseeded_install(hosts.alpha)
    hosts.wait_for_bravo()
    # A short connect timeout lets the blocked-port fault show within seconds.
    run(hosts.alpha, "postconf -e smtp_connect_timeout=3s && systemctl reload postfix@-")
    for host in (hosts.alpha, hosts.bravo):
        save_originals(host)
    return hosts.alpha, hosts.bravo


@pytest.fixture
def lab_pair(mail_hosts: tuple[LabHost, LabHost]) -> tuple[LabHost, LabHost]:
    """Both hosts as after their installation, with empty journals.

    The reset runs before each fault rather than after it, so a test that failed
    half-way cannot spoil the next one. The lab is removed after the last test.
    """
    alpha, bravo = mail_hosts
    with ThreadPoolExecutor(max_workers=2) as pool:
        for done in [pool.submit(reset, alpha, bravo), pool.submit(reset, bravo, alpha)]:
            done.result()
    return alpha, bravo


Pair = tuple[LabHost, LabHost]


def test_mail_loops_back(lab_pair: Pair, alpha_session: Session, lesson: Lesson) -> None:
    alpha, _ = lab_pair
    run(alpha, "postconf -e 'mydestination = localhost' && systemctl reload postfix@-")
    send_mail(alpha, f"root@{alpha.fqdn}")
    wait_for_journal(alpha, "loops back to myself")
    finding = diagnosis(alpha_session, lesson, "mail-loops-back", "loops back to myself")
    assert f"`{alpha.fqdn}`" in finding.hint
    assert f"mydestination = localhost, {alpha.fqdn}" in finding.hint


def test_relay_denied(lab_pair: Pair, alpha_session: Session, lesson: Lesson) -> None:
    alpha, bravo = lab_pair
    run(
        bravo,
        f"swaks --server {alpha.fqdn} --from learner@{bravo.fqdn} "
        "--to someone@elsewhere.test --timeout 10 >/dev/null || true",
    )
    wait_for_journal(alpha, "Relay access denied")
    finding = diagnosis(alpha_session, lesson, "relay-denied", "Relay access denied")
    assert "`someone@elsewhere.test`" in finding.hint


def test_outgoing_25_blocked(lab_pair: Pair, alpha_session: Session, lesson: Lesson) -> None:
    alpha, bravo = lab_pair
    # The lab image has neither nft nor iptables. A neighbour entry that sends bravo's
    # packets to a MAC address that no host has makes the connection time out instead.
    run(alpha, f"ip neigh replace {bravo.address} lladdr {UNUSED_MAC} dev eth0 nud permanent")
    send_mail(alpha, f"learner@{bravo.fqdn}")
    wait_for_journal(alpha, "status=deferred .*Connection timed out")
    finding = diagnosis(alpha_session, lesson, "outgoing-25-blocked", ":25: Connection timed out")
    assert f"`{bravo.fqdn}`" in finding.hint
    assert "provider" in finding.hint


def test_stopped_partner(
    lab_pair: Pair, alpha_session: Session, lesson: Lesson, tmp_path: Path
) -> None:
    alpha, bravo = lab_pair
    run(bravo, "systemctl stop postfix@-")
    send_mail(alpha, f"learner@{bravo.fqdn}")
    wait_for_journal(alpha, "status=deferred .*Connection refused")
    finding = diagnosis(alpha_session, lesson, "remote-25-refused", ":25: Connection refused")
    assert f"`{bravo.fqdn}`" in finding.hint
    # On bravo, the dummy postfix.service still reports active.
    bravo_session = open_session(bravo, tmp_path)
    try:
        stopped = diagnosis(bravo_session, lesson, "postfix-not-running", "postfix@-.service")
    finally:
        bravo_session.close()
    assert "postfix.service: active (exited)" in stopped.evidence
    assert "postfix@-.service: inactive (dead), result success" in stopped.evidence


def test_plaintext_login(lab_pair: Pair, alpha_session: Session, lesson: Lesson) -> None:
    alpha, bravo = lab_pair
    output = python_on(
        bravo,
        "import imaplib\n"
        f"client = imaplib.IMAP4({alpha.fqdn!r})\n"
        f"try:\n    client.login('learner', {alpha.user_password!r})\n"
        "except imaplib.IMAP4.error as error:\n    print(error)\n",
    )
    assert "PRIVACYREQUIRED" in output
    wait_for_journal(alpha, r"imap-login: .*auth failed")
    finding = diagnosis(alpha_session, lesson, "plaintext-login-refused", "rip=" + bravo.address)
    assert f"`{bravo.address}`" in finding.hint
    # Switching plaintext on silences that finding and raises a warning instead.
    run(
        alpha,
        "sed -i 's/^#*disable_plaintext_auth = .*/disable_plaintext_auth = no/' "
        "/etc/dovecot/conf.d/10-auth.conf && systemctl restart dovecot",
    )
    diagnosis(alpha_session, lesson, "plaintext-login-enabled", "disable_plaintext_auth = no")


def test_mailbox_format_mismatch(lab_pair: Pair, alpha_session: Session, lesson: Lesson) -> None:
    alpha, _ = lab_pair
    run(alpha, "postconf -e home_mailbox=Maildir/ && systemctl reload postfix@-")
    send_mail(alpha, f"learner@{alpha.fqdn}")
    wait_for_journal(alpha, r"delivered to maildir")
    finding = diagnosis(alpha_session, lesson, "mailbox-format-mismatch", "home_mailbox = Maildir/")
    assert "mail_location = mbox:~/mail:INBOX=/var/mail/%u" in finding.evidence
    assert any("delivered to maildir" in line for line in finding.evidence)


def test_login_with_full_address(lab_pair: Pair, alpha_session: Session, lesson: Lesson) -> None:
    alpha, bravo = lab_pair
    address = f"learner@{alpha.fqdn}"
    python_on(
        bravo,
        "import imaplib, ssl\n"
        "context = ssl.create_default_context()\n"
        "context.check_hostname = False\n"
        "context.verify_mode = ssl.CERT_NONE\n"
        f"client = imaplib.IMAP4_SSL({alpha.fqdn!r}, ssl_context=context)\n"
        f"try:\n    client.login({address!r}, {alpha.user_password!r})\n"
        "except imaplib.IMAP4.error as error:\n    print(error)\n",
    )
    wait_for_journal(alpha, f"auth failed.*user=<{address}>")
    finding = diagnosis(alpha_session, lesson, "login-with-full-address", f"user=<{address}>")
    assert "Enter `learner`" in finding.hint


def test_submission_not_enabled(lab_pair: Pair, alpha_session: Session, lesson: Lesson) -> None:
    alpha, bravo = lab_pair
    run(bravo, f"swaks --server {alpha.fqdn} --port 587 --quit-after EHLO --timeout 5 || true")
    step = lesson.steps[0]
    results = alpha_session.check_step(lesson, step, allow_wait=False)
    assert not results[0].passed
    findings = diagnose_counting_execs(alpha_session, lesson, results)
    [finding] = [finding for finding in findings if finding.rule == "submission-not-enabled"]
    print("\nsubmission-not-enabled:", *(f"  {line}" for line in finding.evidence))
    assert results[0].reason in finding.evidence
    assert any(":25 " in line and "master" in line for line in finding.evidence)
    assert "commented out" in finding.hint


def test_sasl_socket_missing(lab_pair: Pair, alpha_session: Session, lesson: Lesson) -> None:
    alpha, bravo = lab_pair
    options = " ".join(
        shlex.quote(f"submission/inet/{name}")
        for name in (
            "smtpd_sasl_auth_enable=yes",
            "smtpd_sasl_type=dovecot",
            "smtpd_sasl_path=private/auth",
            "smtpd_tls_security_level=encrypt",
        )
    )
    run(
        alpha,
        "postconf -M submission/inet='submission inet n - y - - smtpd' && "
        f"postconf -P {options} && systemctl reload postfix@-",
    )
    run(
        bravo,
        f"swaks --server {alpha.fqdn} --port 587 --tls --auth PLAIN --auth-user learner "
        f"--auth-password {shlex.quote(bravo.user_password)} --quit-after AUTH --timeout 10 "
        ">/dev/null 2>&1 || true",
    )
    wait_for_journal(alpha, "no SASL authentication mechanisms")
    finding = diagnosis(alpha_session, lesson, "sasl-socket-missing", "SASL: Connect to")
    assert "`private/auth`" in finding.hint


def test_certificate_rejected(lab_pair: Pair, alpha_session: Session, lesson: Lesson) -> None:
    alpha, bravo = lab_pair
    output = python_on(
        bravo,
        "import socket, ssl\n"
        f"raw = socket.create_connection(({alpha.fqdn!r}, 993), timeout=10)\n"
        "try:\n"
        f"    ssl.create_default_context().wrap_socket(raw, server_hostname={alpha.fqdn!r})\n"
        "except ssl.SSLCertVerificationError as error:\n    print(error.verify_message)\n",
    )
    assert "self-signed" in output
    wait_for_journal(alpha, "alert unknown ca")
    finding = diagnosis(alpha_session, lesson, "certificate-rejected", "alert unknown ca")
    assert "self-signed" in finding.hint


def test_mail_log_missing(lab_pair: Pair, alpha_session: Session, lesson: Lesson) -> None:
    alpha, _ = lab_pair
    # bash writes the history when an interactive shell exits; this is the file it leaves.
    run(
        alpha,
        "printf '%s\\n' 'cat /var/log/mail.log' >> /home/learner/.bash_history && "
        "chown learner: /home/learner/.bash_history",
    )
    diagnosis(alpha_session, lesson, "mail-log-missing", "cat /var/log/mail.log")


def test_unknown_user(lab_pair: Pair, alpha_session: Session, lesson: Lesson) -> None:
    alpha, _ = lab_pair
    send_mail(alpha, f"nosuchuser@{alpha.fqdn}", sender="learner")
    wait_for_journal(alpha, "unknown user")
    finding = diagnosis(alpha_session, lesson, "unknown-user", 'unknown user: "nosuchuser"')
    assert "sudo adduser nosuchuser" in finding.hint


def test_domain_not_found(lab_pair: Pair, alpha_session: Session, lesson: Lesson) -> None:
    alpha, _ = lab_pair
    send_mail(alpha, "someone@nowhere.lab.test", sender="learner")
    wait_for_journal(alpha, "Host or domain name not found")
    finding = diagnosis(alpha_session, lesson, "domain-not-found", "name=nowhere.lab.test")
    assert "`nowhere.lab.test`" in finding.hint


def test_disk_full(lab_pair: Pair, alpha_session: Session, lesson: Lesson) -> None:
    alpha, _ = lab_pair
    # A small file system over /var/mail fills up without touching the lab's real disk.
    run(
        alpha,
        "mount -t tmpfs -o size=32k,mode=2775,gid=mail tmpfs /var/mail && "
        "dd if=/dev/zero of=/var/mail/filler bs=1k count=64 2>/dev/null || true",
    )
    send_mail(alpha, f"learner@{alpha.fqdn}")
    wait_for_journal(alpha, "No space left on device")
    finding = diagnosis(alpha_session, lesson, "disk-full", "No space left on device")
    assert "`/var/mail` (100% used)" in finding.hint


def test_postfix_config_error(lab_pair: Pair, alpha_session: Session, lesson: Lesson) -> None:
    alpha, _ = lab_pair
    run(
        alpha,
        "echo 'mydestination localhost' >> /etc/postfix/main.cf && "
        "{ systemctl restart postfix@- || true; }",
    )
    finding = diagnosis(
        alpha_session, lesson, "postfix-config-error", "missing '=' after attribute name"
    )
    assert "sudo nano +" in finding.hint
    assert "/etc/postfix/main.cf" in finding.hint


def test_dovecot_config_error(lab_pair: Pair, alpha_session: Session, lesson: Lesson) -> None:
    alpha, _ = lab_pair
    run(
        alpha,
        "echo 'mail_locaton = maildir:~/Maildir' >> /etc/dovecot/conf.d/10-mail.conf && "
        "{ systemctl restart dovecot || true; }",
    )
    finding = diagnosis(
        alpha_session, lesson, "dovecot-config-error", "Unknown setting: mail_locaton"
    )
    assert "`/etc/dovecot/conf.d/10-mail.conf`, line" in finding.hint
