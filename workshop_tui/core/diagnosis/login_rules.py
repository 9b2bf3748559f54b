"""Rules about mail programs that log in to Dovecot and read the mailbox."""

from __future__ import annotations

import re
from collections.abc import Iterator

from workshop_tui.core.diagnosis.evidence import Evidence
from workshop_tui.core.diagnosis.model import DiagnosisContext, Hit, code, newest

_LOGIN = re.compile(
    r"(?P<service>imap|pop3|submission|managesieve)-login: .*?"
    r"\((?P<why>auth failed[^)]*|tried to use [^)]*|no auth attempts[^)]*)\): "
    r"user=<(?P<user>[^>]*)>(?P<rest>.*)$"
)
_TLS_ALERT = re.compile(
    r"SSL routines::((?:tlsv1|sslv3) alert (?:unknown ca|bad certificate|certificate unknown"
    r"|certificate expired|unsupported certificate))"
)
_REMOTE_IP = re.compile(r"rip=([^,\s]+)")
_DELIVERED = re.compile(r"status=sent \(delivered to (maildir|mailbox)\)")


def _remote(rest: str) -> str:
    match = _REMOTE_IP.search(rest)
    return match.group(1) if match else ""


def _is_loopback(address: str) -> bool:
    return address.startswith("127.") or address == "::1"


def _encrypted(rest: str) -> bool:
    return re.search(r", (?:TLS|secured)\b", rest) is not None


def plaintext_login_refused(evidence: Evidence, context: DiagnosisContext) -> Iterator[Hit]:
    """Find passwords sent without TLS from another machine, which Dovecot rejected."""
    if evidence.doveconf("disable_plaintext_auth") == "no":
        return  # Plaintext is allowed now; the plaintext-login-enabled rule warns.
    refused = []
    for line in evidence.journal:
        match = _LOGIN.search(line)
        if match is None:
            continue
        why, rest = match.group("why"), match.group("rest")
        if "disallowed plaintext" in why or (
            why.startswith("auth failed")
            and "method=" not in rest
            and not _encrypted(rest)
            and not _is_loopback(_remote(rest))
        ):
            refused.append((match, line))
    if not refused:
        return
    match, line = refused[-1]
    user = match.group("user") or "(no name)"
    yield Hit(
        f"A mail program at {code(_remote(match.group('rest')) or 'another machine')} tried "
        f"to log in as {code(user)} without encryption, and Dovecot rejected the password "
        '(the program reports "Plaintext authentication disallowed on non-secure '
        'connections"). Dovecot accepts unencrypted logins only from the server itself, '
        "which is why a test on the server passes. Set the mail program to SSL/TLS on port "
        "993 (or STARTTLS on 143). Do not switch plaintext logins on.",
        (line,),
        newest([line]),
    )


def plaintext_login_enabled(evidence: Evidence, context: DiagnosisContext) -> Iterator[Hit]:
    """Find settings that let Dovecot accept passwords without TLS."""
    lines = [
        line
        for line in evidence.section("doveconf-values").lines
        if line in ("disable_plaintext_auth = no", "ssl = no")
    ]
    if not lines:
        return
    yield Hit(
        "Dovecot accepts passwords over unencrypted connections, so anyone on the network "
        "path can read them. Set `disable_plaintext_auth = yes` in "
        "`/etc/dovecot/conf.d/10-auth.conf` and `ssl = yes` in "
        "`/etc/dovecot/conf.d/10-ssl.conf`, restart Dovecot, and let mail programs use port "
        "993 or STARTTLS.",
        tuple(lines),
    )


def login_with_full_address(evidence: Evidence, context: DiagnosisContext) -> Iterator[Hit]:
    """Find failed logins as ``user@domain`` while PAM expects only ``user``."""
    if re.search(r"%L?n", evidence.doveconf("auth_username_format") or ""):
        return  # Dovecot already drops the domain.
    if "driver = pam" not in evidence.section("doveconf").text:
        return
    failures = []
    for line in evidence.journal:
        match = _LOGIN.search(line)
        if match and match.group("why").startswith("auth failed") and "@" in match.group("user"):
            failures.append((match, line))
    if not failures:
        return
    match, line = failures[-1]
    address = match.group("user")
    local = address.split("@", 1)[0]
    pam = [
        entry
        for entry in evidence.journal
        if "pam_unix(dovecot:auth)" in entry and f"ruser={address}" in entry
    ]
    yield Hit(
        f"A mail program logged in as {code(address)}, but Dovecot checks passwords against "
        f"the server's own users (PAM), who are called {code(local)}, not by the full "
        f"address. Enter {code(local)} as the login name (in Delta Chat under "
        'Advanced, "IMAP login name" and "SMTP login name"), or let Dovecot drop the '
        "domain: `auth_username_format = %Ln` in `/etc/dovecot/conf.d/10-auth.conf`, then "
        "`sudo systemctl restart dovecot`.",
        (*pam[-1:], line),
        newest([line]),
    )


def certificate_rejected(evidence: Evidence, context: DiagnosisContext) -> Iterator[Hit]:
    """Find TLS handshakes that a client ended because it distrusts the certificate."""
    lines = [line for line in evidence.journal if _TLS_ALERT.search(line)]
    if not lines:
        return

    line = lines[-1]
    alert = _TLS_ALERT.search(line)
    assert alert is not None
    dovecot = "-login:" in line
    login = _LOGIN.search(line)
    client = _remote(login.group("rest")) if login else ""
    who = f"A mail program at {code(client)}" if client else "A mail program"
    service = "Dovecot (IMAP)" if dovecot else "Postfix (SMTP)"

    certificate = evidence.certificate("dovecot" if dovecot else "postfix")
    quoted = [line]
    if certificate is not None and certificate[1] and certificate[1] == certificate[2]:
        path, subject, _ = certificate
        quoted.append(f"{path}: subject {subject}, issuer {subject}")
        why = (
            f"The certificate {code(path)} is self-signed (its issuer is itself), and Delta "
            "Chat, phones and most mail programs reject such certificates."
        )
        workshop = (
            " In a workshop without one, Delta Chat's `dclogin:` QR code with `ic=3` "
            "accepts this certificate."
        )
    else:
        why = (
            "The certificate is not signed by an authority the client knows, or its chain is "
            "incomplete (use the full chain, such as certbot's `fullchain.pem`)."
        )
        workshop = ""

    yield Hit(
        f"{who} stopped the encrypted connection to {service} because it does not trust "
        f"the server's certificate ({code(alert.group(1))}). {why} Get a certificate from "
        "Let's Encrypt (`certbot`) for your mail name and point Dovecot's `ssl_cert` and "
        "`ssl_key` (and Postfix's `smtpd_tls_cert_file` and `smtpd_tls_key_file`) at it."
        f"{workshop}",
        tuple(quoted),
        newest([line]),
    )


def _postfix_writes(evidence: Evidence, user: str) -> tuple[str, str, str] | None:
    """Return (format, place, setting line) of Postfix's local delivery, or None."""
    if evidence.postconf("mailbox_command") or evidence.postconf("mailbox_transport"):
        return None  # Another program (procmail, Dovecot's LDA or LMTP) delivers.
    home_mailbox = evidence.postconf("home_mailbox")
    if home_mailbox is None:
        return None
    line = f"home_mailbox = {home_mailbox}".rstrip()
    if home_mailbox.endswith("/"):
        return "maildir", "~/" + home_mailbox.rstrip("/"), line
    if home_mailbox:
        return "mbox", "~/" + home_mailbox, line
    spool = evidence.postconf("mail_spool_directory") or "/var/mail"
    return "mbox", f"{spool.rstrip('/')}/{user}", line


def _dovecot_reads(evidence: Evidence, user: str) -> tuple[str, str, str] | None:
    """Return (format, place of the inbox, setting line) that Dovecot reads, or None."""
    location = evidence.doveconf("mail_location")
    if not location or ":" not in location:
        return None  # Empty means Dovecot guesses the format.
    kind, _, rest = location.partition(":")
    parts = rest.split(":")
    place = parts[0]
    for part in parts[1:]:
        if part.startswith("INBOX="):
            place = part.removeprefix("INBOX=")
    place = place.replace("%u", user).replace("%n", user).replace("%Lu", user).rstrip("/")
    return kind.lower(), place, f"mail_location = {location}"


def mailbox_format_mismatch(evidence: Evidence, context: DiagnosisContext) -> Iterator[Hit]:
    """Find Postfix delivering to Maildir while Dovecot reads mbox, or the reverse."""
    if not evidence.dovecot_installed:
        return
    writes = _postfix_writes(evidence, context.user)
    reads = _dovecot_reads(evidence, context.user)
    if writes is None or reads is None:
        return
    if writes[0] == reads[0] and (writes[0] == "mbox" or writes[1] == reads[1]):
        return
    if reads[0] not in ("mbox", "maildir"):
        return
    delivered = [line for line in evidence.journal if _DELIVERED.search(line)]
    files = evidence.section("mailbox").lines
    yield Hit(
        f"Postfix delivers new mail as {writes[0]} to {code(writes[1])} ({code(writes[2])}), "
        f"but Dovecot reads the inbox as {reads[0]} from {code(reads[1])} "
        f"({code(reads[2])}), so IMAP, and Mutt without settings, show an empty inbox. "
        "Make both use the same place: for Maildir set `mail_location = maildir:~/Maildir` "
        "in `/etc/dovecot/conf.d/10-mail.conf` and restart Dovecot; for mbox in /var/mail "
        "run `sudo postconf -e home_mailbox=` and `sudo systemctl reload postfix`.",
        (writes[2], reads[2], *files, *delivered[-1:]),
        newest(delivered[-1:]),
    )
