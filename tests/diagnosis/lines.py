"""Real output captured on lab hosts (Debian 12, Postfix 3.7.11, Dovecot 2.3.19.1).

Each fault was recreated on a lab host and its lines copied here unchanged, so the
rules are tested against what the programs really print. ``data/healthy.json``
contains every section of a working server (alpha) after mail went in and out and a mail
program logged in over TLS.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from workshop_tui.core.diagnosis import DiagnosisContext, Evidence

HEALTHY: dict[str, str] = json.loads(
    (Path(__file__).parent / "data" / "healthy.json").read_text(encoding="utf-8")
)

CONTEXT = DiagnosisContext(user="learner", domain="alpha.lab.test")

LOOPS_BACK = (
    "2026-12-05T03:16:45+0000 alpha postfix/smtp[5119]: 8EC47260912: to=<root@alpha.lab.test>, "
    "relay=none, delay=0.03, delays=0.01/0.02/0/0, dsn=5.4.6, status=bounced (mail for "
    "alpha.lab.test loops back to myself)"
)
RELAY_DENIED = (
    "2026-12-05T03:16:56+0000 alpha postfix/smtpd[5148]: NOQUEUE: reject: RCPT from "
    "bravo.lab.test[10.200.79.12]: 454 4.7.1 <someone@elsewhere.test>: Relay access denied; "
    "from=<learner@bravo.lab.test> to=<someone@elsewhere.test> proto=ESMTP helo=<bravo.lab.test>"
)
CONNECT_TIMED_OUT = (
    "2026-12-05T03:17:06+0000 alpha postfix/smtp[5193]: 8C341260919: to=<learner@bravo.lab.test>, "
    "relay=none, delay=4, delays=0.01/0.02/4/0, dsn=4.4.1, status=deferred (connect to "
    "bravo.lab.test[10.200.79.12]:25: Connection timed out)"
)
QUEUE_TIMED_OUT = """\
-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------
8C341260919     255 Sat Dec  5 03:17:02  learner@alpha.lab.test
            (connect to bravo.lab.test[10.200.79.12]:25: Connection timed out)
                                         learner@bravo.lab.test

-- 0 Kbytes in 1 Request.
"""
CONNECT_REFUSED = (
    "2026-12-05T03:17:14+0000 alpha postfix/smtp[5193]: 8C341260919: to=<learner@bravo.lab.test>, "
    "relay=none, delay=12, delays=12/0/0/0, dsn=4.4.1, status=deferred (connect to "
    "bravo.lab.test[10.200.79.12]:25: Connection refused)"
)
QUEUE_REFUSED = """\
-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------
651FC260517     266 Sat Dec  5 03:48:00  learner@alpha.lab.test
              (connect to bravo.lab.test[10.200.79.12]:25: Connection refused)
                                         learner@bravo.lab.test

-- 0 Kbytes in 1 Request.
"""
PLAINTEXT_REFUSED = (
    "2026-12-05T03:17:21+0000 alpha dovecot[5042]: imap-login: Disconnected: Aborted login by "
    "logging out (auth failed, 1 attempts in 0 secs): user=<learner>, rip=10.200.79.12, "
    "lip=10.200.79.11, session=<dz1PbtphDqkKyE8M>"
)
# The same refusal from another run, where the client closed the connection itself.
PLAINTEXT_REFUSED_CLOSED = (
    "2026-12-05T03:53:44+0000 alpha dovecot[5851]: imap-login: Disconnected: Connection closed "
    "(auth failed, 1 attempts in 0 secs): user=<learner>, rip=10.203.65.12, lip=10.203.65.11, "
    "session=<kXRl8NphJoYKy0EM>"
)
SUBMISSION_CHECK_REASON = "nothing listens on 127.0.0.1:587: the connection was refused"
WRONG_PASSWORD_OVER_TLS = (
    "2026-12-05T03:17:38+0000 alpha dovecot[5042]: imap-login: Disconnected: Connection closed "
    "(auth failed, 1 attempts in 4 secs): user=<learner>, method=PLAIN, rip=10.200.79.12, "
    "lip=10.200.79.11, TLS: Connection closed, session=<a1kRb9phoqIKyE8M>"
)
FULL_ADDRESS_PAM = (
    "2026-12-05T03:17:42+0000 alpha auth[5238]: pam_unix(dovecot:auth): authentication failure; "
    "logname= uid=0 euid=0 tty=dovecot ruser=learner@alpha.lab.test rhost=10.200.79.12"
)
FULL_ADDRESS_LOGIN = (
    "2026-12-05T03:17:45+0000 alpha dovecot[5042]: imap-login: Disconnected: Connection closed "
    "(auth failed, 1 attempts in 7 secs): user=<learner@alpha.lab.test>, method=PLAIN, "
    "rip=10.200.79.12, lip=10.200.79.11, TLS: Connection closed, session=<0IBOb9ph7NcKyE8M>"
)
UNKNOWN_CA = (
    "2026-12-05T03:17:53+0000 alpha dovecot[5042]: imap-login: Disconnected: Connection closed: "
    "SSL_accept() failed: error:0A000418:SSL routines::tlsv1 alert unknown ca: SSL alert number "
    "48 (no auth attempts in 0 secs): user=<>, rip=10.200.79.12, lip=10.200.79.11, TLS "
    "handshaking: SSL_accept() failed: error:0A000418:SSL routines::tlsv1 alert unknown ca: SSL "
    "alert number 48, session=</dY1cNphwuwKyE8M>"
)
SELF_SIGNED = """\
dovecot /etc/dovecot/private/dovecot.pem subject=/CN=alpha.lab.test
dovecot /etc/dovecot/private/dovecot.pem issuer=/CN=alpha.lab.test
postfix /etc/ssl/certs/ssl-cert-snakeoil.pem subject=/CN=alpha.lab.test
postfix /etc/ssl/certs/ssl-cert-snakeoil.pem issuer=/CN=alpha.lab.test
"""
SASL_CONNECT_FAILED = (
    "2026-12-05T03:19:09+0000 alpha postfix/smtpd[5292]: warning: SASL: Connect to Dovecot auth "
    "socket 'private/auth' failed: No such file or directory"
)
SASL_FATAL = (
    "2026-12-05T03:19:09+0000 alpha postfix/smtpd[5292]: fatal: no SASL authentication mechanisms"
)
UNKNOWN_USER = (
    "2026-12-05T03:19:26+0000 alpha postfix/local[5351]: 871962605B1: "
    "to=<nosuchuser@alpha.lab.test>, relay=local, delay=0.05, delays=0.02/0.01/0/0.01, "
    'dsn=5.1.1, status=bounced (unknown user: "nosuchuser")'
)
DOMAIN_NOT_FOUND = (
    "2026-12-05T03:19:26+0000 alpha postfix/smtp[5352]: 8A3092605B0: "
    "to=<someone@nowhere.lab.test>, relay=none, delay=0.06, delays=0.01/0.05/0/0, dsn=5.4.4, "
    "status=bounced (Host or domain name not found. Name service error for "
    "name=nowhere.lab.test type=AAAA: Host not found)"
)
POSTCONF_FATAL = (
    "postconf: fatal: /etc/postfix/main.cf, line 48: missing '=' after attribute name: "
    '"mydestination localhost"'
)
POSTFIX_START_FATAL = (
    "2026-12-05T03:19:34+0000 alpha configure-instance.sh[5372]: postconf: fatal: "
    "/etc/postfix/main.cf, line 48: missing '=' after attribute name: \"mydestination localhost\""
)
DOVECONF_FATAL = (
    "doveconf: Fatal: Error in configuration file /etc/dovecot/conf.d/10-mail.conf line 422: "
    "Unknown setting: mail_locaton"
)
DOVECOT_START_FATAL = (
    "2026-12-05T03:19:48+0000 alpha dovecot[5695]: doveconf: Fatal: Error in configuration file "
    "/etc/dovecot/conf.d/10-mail.conf line 422: Unknown setting: mail_locaton"
)
DELIVERED_TO_MAILDIR = (
    "2026-12-05T03:19:53+0000 alpha postfix/local[5738]: A40552605B3: "
    "to=<learner@alpha.lab.test>, relay=local, delay=0.05, delays=0.03/0.01/0/0, dsn=2.0.0, "
    "status=sent (delivered to maildir)"
)
NO_SPACE = (
    "2026-12-05T03:20:05+0000 alpha postfix/local[5793]: 6423A260710: "
    "to=<learner@alpha.lab.test>, relay=local, delay=0.03, delays=0.01/0.01/0/0.01, dsn=4.3.0, "
    "status=deferred (cannot update mailbox /var/mail/learner for user learner. error writing "
    "message: No space left on device)"
)
DISK_FULL = """\
overlay          264212084 25485108  80905804      24% /
tmpfs                   32       32         0     100% /var/mail
"""
# The processes section while `apt-get install -y postfix mutt` waited in an SSH exec
# without a terminal; the last line comes from dpkg's control file of the package.
INSTALLER_WAITING = """\
   8532    8526      14 apt-get         apt-get install -y postfix mutt
   8539    8532      14 dpkg            /usr/bin/dpkg --status-fd 19 --no-triggers --unpack \
--auto-deconfigure /var/cache/apt/archives/postfix_3.7.11-0+deb12u1_amd64.deb \
/var/cache/apt/archives/mutt_2.2.12-0.1~deb12u2_amd64.deb
   8546    8539      14 frontend        /usr/bin/perl -w /usr/share/debconf/frontend \
/var/lib/dpkg/tmp.ci/preinst install
   8559    8546      14 config          /usr/bin/perl -w /var/lib/dpkg/tmp.ci/config configure
unpacking postfix
"""
POSTFIX_STOPPED_UNITS = """\
Result=success
Id=postfix.service
LoadState=loaded
ActiveState=active
SubState=exited

Result=success
Id=postfix@-.service
LoadState=loaded
ActiveState=inactive
SubState=dead

Result=success
Id=dovecot.service
LoadState=loaded
ActiveState=active
SubState=running
"""


def evidence(journal: Iterable[str] = (), **sections: str) -> Evidence:
    """Return the healthy server's evidence with ``journal`` lines added and ``sections``
    replaced; section names use ``_`` for ``-``."""
    texts: dict[str, str] = dict(HEALTHY)
    texts.update({name.replace("_", "-"): text for name, text in sections.items()})
    texts["journal-units"] = texts["journal-units"] + "".join(f"{line}\n" for line in journal)
    return Evidence.from_texts(texts)


def replace_setting(text: str, name: str, value: str) -> str:
    """Return ``name = ...`` lines of ``text`` with the new value; add the line if missing."""
    lines = [line for line in text.splitlines() if not line.startswith(f"{name} =")]
    return "\n".join([*lines, f"{name} = {value}".rstrip()]) + "\n"


def without_lines(text: str, words: Iterable[str]) -> str:
    """Return ``text`` without the lines that contain any of ``words``."""
    return "".join(
        f"{line}\n" for line in text.splitlines() if not any(word in line for word in words)
    )
