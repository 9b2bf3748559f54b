"""Rules about mail that Postfix bounced, deferred or refused, read from its journal lines."""

from __future__ import annotations

import re
from collections.abc import Iterator

from workshop_tui.core.diagnosis.evidence import Evidence
from workshop_tui.core.diagnosis.model import (
    DiagnosisContext,
    Hit,
    code,
    command,
    domain_of,
    items,
    latest_per_key,
    newest,
)

_LOOPS = re.compile(r"to=<([^>]*)>.*status=bounced \(mail for (\S+) loops back to myself\)")
_RELAY = re.compile(
    r"NOQUEUE: reject: RCPT from (\S+?)\[([^\]]+)\]: (\d{3} \d\.\d\.\d) <([^>]*)>: "
    r"Relay access denied; from=<([^>]*)> to=<([^>]*)>"
)
_CONNECT = re.compile(
    r"to=<([^>]*)>.*status=deferred \(connect to (\S+?)\[([^\]]+)\]:25: ([^)]+)\)"
)
_BLOCKED_ERRORS = ("Connection timed out", "No route to host", "Network is unreachable")
_UNKNOWN_USER = re.compile(r"to=<([^>]*)>.*status=bounced \(unknown user: \"([^\"]*)\"\)")
_NOT_FOUND = re.compile(
    r"to=<([^>]*)>.*status=(?:bounced|deferred) \(Host or domain name not found\. "
    r"Name service error for name=(\S+) type=\S+: ([^)]*)\)"
)
_QUEUE_ID = re.compile(r": ([0-9A-F]{6,}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,}): to=<")
_NO_SPACE = re.compile(r"No space left on device|Insufficient system storage")


def _handled_domains(evidence: Evidence) -> set[str]:
    names: set[str] = set()
    for parameter in ("mydestination", "virtual_mailbox_domains", "relay_domains"):
        names.update(item.lower() for item in items(evidence.postconf(parameter)))
    return names


def _mydestination_command(evidence: Evidence, domain: str) -> str:
    current = evidence.postconf_set("mydestination") or "$myhostname, localhost"
    return command("sudo", "postconf", "-e", f"mydestination = {current}, {domain}")


def mail_loops_back(evidence: Evidence, context: DiagnosisContext) -> Iterator[Hit]:
    """Find bounces for domains that lead here but are missing from ``mydestination``."""
    handled = _handled_domains(evidence)
    for domain, (_, line) in latest_per_key(evidence.journal, _LOOPS, 2).items():
        if evidence.postconf("mydestination") is not None and domain in handled:
            continue  # Fixed since the bounce.
        current = evidence.postconf_set("mydestination") or "(not set)"
        yield Hit(
            f"Postfix bounced mail for {code(domain)}: that name leads to this server, but "
            f"it is not in `mydestination` ({code(current)}), so Postfix treats it as "
            f"someone else's domain, looks up its mail server and finds itself. Add the "
            f"domain: {_mydestination_command(evidence, domain)}, then "
            f"`sudo systemctl reload postfix` and send the mail again.",
            (line,),
            newest([line]),
        )


def relay_denied(evidence: Evidence, context: DiagnosisContext) -> Iterator[Hit]:
    """Find clients that tried to send to another domain without logging in."""
    own = (context.domain or "").lower()
    handled = _handled_domains(evidence)
    for _, (match, line) in latest_per_key(evidence.journal, _RELAY, 2).items():
        client, address, recipient = match.group(1), match.group(2), match.group(6)
        target = domain_of(recipient)
        if own and target == own and own not in handled:
            yield Hit(
                f"Postfix refused mail for {code(recipient)} from {code(client)} "
                f'({code(address)}) with "Relay access denied": {code(own)} is your own '
                f"domain, but it is not in `mydestination`, so Postfix thinks the mail is "
                f"for somebody else. Add it: {_mydestination_command(evidence, own)}, "
                "then `sudo systemctl reload postfix`.",
                (line,),
                newest([line]),
            )
            continue
        yield Hit(
            f"{code(client)} ({code(address)}) tried to send mail to {code(recipient)} "
            'through this server without logging in, and Postfix refused it ("Relay access '
            'denied"). That refusal is right: otherwise anyone could send spam through your '
            "server. A mail program must send on the submission port (587 with STARTTLS, or "
            "465) and log in with a user name and password. Do not add the client's network "
            "to `mynetworks`.",
            (line,),
            newest([line]),
        )


def _still_queued(evidence: Evidence, host: str) -> bool:
    queue = evidence.queue()
    if queue is None:
        return True  # The queue is unknown, so the journal line decides.
    return any(host.lower() in line.lower() for line in queue)


def _queued_count(evidence: Evidence) -> str:
    for line in evidence.queue() or ():
        match = re.search(r"in (\d+) Requests?\.", line)
        if match:
            number = int(match.group(1))
            return f"{number} message{'s' if number != 1 else ''} wait"
    return "the mail waits"


def outgoing_25_blocked(evidence: Evidence, context: DiagnosisContext) -> Iterator[Hit]:
    """Find queued mail whose connections to port 25 time out or find no route."""
    found = latest_per_key(evidence.journal, _CONNECT, 2)
    for host, (match, line) in found.items():
        error = match.group(4)
        if error not in _BLOCKED_ERRORS or not _still_queued(evidence, host):
            continue
        address = match.group(3)
        firewall = evidence.section("firewall").lines
        if firewall:
            cause = (
                "This server's own firewall has a rule for port 25 (quoted below): "
                "remove it if it drops outgoing mail."
            )
        else:
            cause = (
                "If this happens for every outside server, your provider blocks outgoing "
                "port 25, as many do for new accounts: that is not your configuration. Ask "
                "the provider to open it, or send through their relay (`relayhost`). If "
                f"{code(host)} is another workshop server, check with its owner that it "
                "is up."
            )
        yield Hit(
            f"Postfix cannot reach port 25 of {code(host)} ({code(address)}): {error}, so "
            f"{_queued_count(evidence)} in the queue (`mailq` lists them). {cause}",
            (line, *firewall),
            newest([line]),
        )


def remote_25_refused(evidence: Evidence, context: DiagnosisContext) -> Iterator[Hit]:
    """Find queued mail whose receiving server refuses connections on port 25."""
    for host, (match, line) in latest_per_key(evidence.journal, _CONNECT, 2).items():
        if match.group(4) != "Connection refused" or not _still_queued(evidence, host):
            continue
        yield Hit(
            f"Postfix reached {code(host)} ({code(match.group(3))}), but that server refused "
            "the connection on port 25: no mail server listens there. If it is another "
            "workshop server, its owner should check `systemctl status postfix@-` and "
            "`inet_interfaces` (it must not be `loopback-only`). Postfix keeps the mail in "
            "the queue and tries again; `sudo postqueue -f` retries at once.",
            (line,),
            newest([line]),
        )


def unknown_user(evidence: Evidence, context: DiagnosisContext) -> Iterator[Hit]:
    """Find bounces for local addresses without a user or alias."""
    for name, (match, line) in latest_per_key(evidence.journal, _UNKNOWN_USER, 2).items():
        yield Hit(
            f"Postfix bounced mail for {code(match.group(1))} because this server has no "
            f"user or alias {code(name)}. Check the spelling of the address. To receive "
            f"mail under that name, create the user ({command('sudo', 'adduser', name)}) or "
            f"add a line {code(f'{name}: {context.user}')} to `/etc/aliases` and run "
            "`sudo newaliases`.",
            (line,),
            newest([line]),
        )


def domain_not_found(evidence: Evidence, context: DiagnosisContext) -> Iterator[Hit]:
    """Find mail for domains that have no DNS records."""
    own = (context.domain or "").lower()
    for name, (match, line) in latest_per_key(evidence.journal, _NOT_FOUND, 2).items():
        recipient = match.group(1)
        if name == own:
            advice = (
                f"{code(name)} is your own mail domain: give it an MX or A record at your "
                "DNS provider, or use the name the facilitator gave you."
            )
        else:
            advice = (
                "Check the spelling of the address; `getent hosts` shows what DNS knows "
                "about a name."
            )
        queue_id = _QUEUE_ID.search(line)
        if "status=deferred" in line and queue_id is not None:
            if not _still_queued(evidence, queue_id.group(1)):
                continue  # Delivered or deleted since.
            advice += (
                " The mail waits in the queue, and Postfix tries again for days: delete it "
                f"with `sudo postsuper -d {queue_id.group(1)}`."
            )
        yield Hit(
            f"Postfix cannot deliver to {code(recipient)}: DNS has no record for "
            f"{code(name)}, so there is no server to send it to. {advice}",
            (line,),
            newest([line]),
        )


def disk_full(evidence: Evidence, context: DiagnosisContext) -> Iterator[Hit]:
    """Find mail that cannot be written because a file system is full."""
    lines = [line for line in evidence.journal if _NO_SPACE.search(line)]
    if not lines:
        return
    disks = evidence.disks()
    full = [disk for disk in disks if disk[1] >= 95]
    if disks and not full:
        return  # Space was freed since.
    where = ", ".join(f"{code(mount)} ({used}% used)" for mount, used, _ in full) or "a disk"
    yield Hit(
        f"The server ran out of disk space on {where}, so mail cannot be written and waits "
        "in the queue. Free some space, for example with `sudo journalctl --vacuum-size=100M` "
        "and `sudo apt-get clean`; `sudo du -xh / | sort -h | tail` lists the largest "
        "directories. Then `sudo postqueue -f` delivers the waiting mail.",
        (lines[-1], *(line for _, _, line in full)),
        newest(lines),
    )
