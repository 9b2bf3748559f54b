"""Rules about installing, configuring and running the mail services themselves."""

from __future__ import annotations

import re
from collections.abc import Iterator

from workshop_tui.core.diagnosis.evidence import Evidence, Process
from workshop_tui.core.diagnosis.model import DiagnosisContext, Hit, code, command, newest

INSTALLER_WAIT_SECONDS = 10
"""Seconds a debconf config script must run before its question counts as waiting. The
script does nothing but pose questions, so with preseeded answers it ends almost at once.
NOTE: the margin for slow servers is a judgment, not a measurement."""

_CONFIG_SCRIPT = re.compile(r"/var/lib/dpkg/(?:tmp\.ci/config|info/(\S+)\.config) configure")
_DEB_FILE = re.compile(r"/([a-z0-9][a-z0-9+.-]*)_[^/\s]+\.deb\b")
_POSTFIX_FATAL = re.compile(r"fatal: ((/etc/postfix/[^\s,:]+)(?:, line (\d+))?:? .*)$")
_DOVECOT_FATAL = re.compile(
    r"Fatal: (Error in configuration file (\S+) line (\d+): .*|.*/etc/dovecot/.*)$"
)
_SASL_CONNECT = re.compile(r"SASL: Connect to (?:Dovecot auth socket )?'?([^' ]+?)'? failed: (.+)$")
_SASL_FATAL = re.compile(r"fatal: no SASL authentication mechanisms")
_SUBMISSION_SERVICES = {587: ("submission/inet",), 465: ("submissions/inet", "smtps/inet")}
# The option lines below each service in the master.cf that Debian's package installs.
_SUBMISSION_OPTIONS = {
    587: "`-o syslog_name`, `-o smtpd_tls_security_level=encrypt` and "
    "`-o smtpd_sasl_auth_enable=yes`",
    465: "`-o syslog_name`, `-o smtpd_tls_wrappermode=yes` and `-o smtpd_sasl_auth_enable=yes`",
}


def _package(evidence: Evidence, script: Process) -> str:
    """Return the name of the package whose question waits, as exactly as known."""
    named = _CONFIG_SCRIPT.search(script.args)
    if named and named.group(1):
        return named.group(1)
    unpacking = evidence.labelled("processes").get("unpacking")
    if unpacking:
        return unpacking
    for process in evidence.processes():
        deb = _DEB_FILE.search(process.args)
        if deb:
            return deb.group(1)
    return "a package"


def installer_waiting(evidence: Evidence, context: DiagnosisContext) -> Iterator[Hit]:
    """Find an installation that waits for the answer to a debconf question."""
    processes = evidence.processes()
    by_pid = {process.pid: process for process in processes}
    for script in processes:
        frontend = by_pid.get(script.ppid)
        if (
            frontend is None
            or frontend.command != "frontend"
            or not _CONFIG_SCRIPT.search(script.args)
            or script.seconds < INSTALLER_WAIT_SECONDS
        ):
            continue
        package = _package(evidence, script)
        dialog = [p for p in processes if p.command in ("whiptail", "dialog")]
        tools = [p for p in processes if p.command in ("apt", "apt-get", "aptitude")]
        minutes, seconds = divmod(script.seconds, 60)
        waited = f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
        if dialog:
            where = "A terminal shows the question: answer it there."
            if package == "postfix":
                where += " For Postfix choose Internet Site, then enter your mail domain."
        else:
            where = (
                "The question cannot be shown because the command runs without a terminal, "
                f"so it waits forever. Stop the waiting installer with "
                f"{command('sudo', 'kill', str(frontend.pid))}. Then answer the question in "
                "advance with `debconf-set-selections` (the lesson shows how) and install "
                "again with `DEBIAN_FRONTEND=noninteractive`, or run the install in a real "
                "terminal (`ssh` without a command) and answer it there."
            )
        yield Hit(
            f"The installation of {code(package)} has been waiting for {waited} for the "
            f"answer to a configuration question. {where}",
            tuple(p.line for p in (*tools, frontend, script, *dialog)),
        )
        return


def postfix_not_running(evidence: Evidence, context: DiagnosisContext) -> Iterator[Hit]:
    """Find ``postfix@-`` stopped while the wrapper ``postfix.service`` looks active."""
    wrapper = evidence.unit("postfix.service")
    daemon = evidence.unit("postfix@-.service")
    if not evidence.postfix_installed or daemon.get("LoadState") != "loaded":
        return
    listeners = evidence.listeners()
    nobody_on_25 = listeners is not None and not any(item.port == 25 for item in listeners)
    if daemon.get("ActiveState") == "active" and not nobody_on_25:
        return
    lines = [
        f"postfix.service: {wrapper.get('ActiveState', '?')} ({wrapper.get('SubState', '?')})",
        f"postfix@-.service: {daemon.get('ActiveState', '?')} ({daemon.get('SubState', '?')}), "
        f"result {daemon.get('Result', '?')}",
    ]
    if nobody_on_25 and listeners is not None:
        ports = ", ".join(sorted({str(item.port) for item in listeners})) or "none"
        lines.append(f"listening TCP ports: {ports}")
    failures = [line for line in evidence.journal if "postfix@-" in line and "Failed" in line]
    yield Hit(
        "Postfix is not running, so nothing listens on port 25, although `systemctl status "
        "postfix` may say active: on Debian that unit only runs `/bin/true`, and the mail "
        "system runs as `postfix@-`. `sudo journalctl -u postfix@- -n 30` shows why it "
        "stopped; start it with `sudo systemctl restart postfix@-`.",
        (*lines, *failures[-1:]),
    )


def postfix_config_error(evidence: Evidence, context: DiagnosisContext) -> Iterator[Hit]:
    """Find the file (and line) of Postfix's configuration that Postfix cannot read."""
    current = [line for line in evidence.section("postconf").lines if _POSTFIX_FATAL.search(line)]
    lines = current
    daemon = evidence.unit("postfix@-.service").get("ActiveState")
    if not lines and daemon not in (None, "active"):
        lines = [line for line in evidence.journal if _POSTFIX_FATAL.search(line)]
    if not lines:
        return
    match = _POSTFIX_FATAL.search(lines[-1])
    assert match is not None
    path, number = match.group(2), match.group(3)
    editor = (
        command("sudo", "nano", f"+{number}", path) if number else command("sudo", "nano", path)
    )
    where = f"{code(path)}, line {number}" if number else code(path)
    yield Hit(
        f"Postfix stops at an error in {where}: {code(match.group(1))}. Open the file "
        f"({editor}), correct it, check with `sudo postfix check` and restart Postfix: "
        "`sudo systemctl restart postfix@-`.",
        (lines[-1],),
        "" if current else newest(lines[-1:]),
    )


def dovecot_config_error(evidence: Evidence, context: DiagnosisContext) -> Iterator[Hit]:
    """Find the file and line of Dovecot's configuration that Dovecot cannot read."""
    sections = evidence.section("doveconf").lines + evidence.section("doveconf-values").lines
    current = [line for line in sections if _DOVECOT_FATAL.search(line)]
    lines = current
    if not lines and evidence.unit("dovecot.service").get("ActiveState") not in (None, "active"):
        lines = [line for line in evidence.journal if _DOVECOT_FATAL.search(line)]
    if not lines:
        return
    match = _DOVECOT_FATAL.search(lines[-1])
    assert match is not None
    path, number = match.group(2), match.group(3)
    if path and number:
        where = f"{code(path)}, line {number}"
        editor = f" ({command('sudo', 'nano', f'+{number}', path)})"
    else:
        where, editor = "its configuration", ""
    yield Hit(
        f"Dovecot does not start because of an error in {where}: {code(match.group(1))}. "
        f"Correct that line{editor}, check with `sudo doveconf -n` (it prints the settings "
        "when they are valid) and restart Dovecot: `sudo systemctl restart dovecot`.",
        (lines[-1],),
        "" if current else newest(lines[-1:]),
    )


def submission_not_enabled(evidence: Evidence, context: DiagnosisContext) -> Iterator[Hit]:
    """Find submission ports that a check tried but on which nothing listens."""
    listeners = evidence.listeners()
    if listeners is None or not evidence.postfix_installed:
        return
    if evidence.unit("postfix@-.service").get("ActiveState") not in (None, "active"):
        return  # The not-running rule explains this.
    services = evidence.postfix_services()
    open_ports = {item.port for item in listeners}
    for port in sorted(context.ports & set(_SUBMISSION_SERVICES)):
        if port in open_ports:
            continue
        names = _SUBMISSION_SERVICES[port]
        enabled = [services[name] for name in names if name in services]
        service = names[0].split("/")[0]
        if enabled:
            advice = (
                f"master.cf enables {code(service)}, but Postfix has not read it yet: "
                "`sudo systemctl reload postfix`."
            )
        else:
            advice = (
                f"Its {code(service)} line in `/etc/postfix/master.cf` is still commented "
                "out, as Debian ships it. Remove the `#` from that line and from its "
                f"{_SUBMISSION_OPTIONS[port]} lines, give Postfix Dovecot's login socket "
                "(`smtpd_sasl_type = dovecot`, `smtpd_sasl_path = private/auth`) and "
                "reload it."
            )
        quoted = [item.line for item in listeners if item.port == 25][:1] or [
            f"listening TCP ports: {', '.join(str(p) for p in sorted(open_ports)) or 'none'}"
        ]
        reasons = [reason for reason in context.failed if str(port) in reason]
        yield Hit(
            f"Mail programs send on port {port} (submission), but nothing listens there. {advice}",
            (*reasons[:1], *quoted, *enabled),
        )


def sasl_socket_missing(evidence: Evidence, context: DiagnosisContext) -> Iterator[Hit]:
    """Find Postfix checking logins through a Dovecot socket that does not exist."""
    connects = [line for line in evidence.journal if _SASL_CONNECT.search(line)]
    fatals = [line for line in evidence.journal if _SASL_FATAL.search(line)]
    if not connects and not fatals:
        return
    path = "private/auth"
    if connects:
        match = _SASL_CONNECT.search(connects[-1])
        assert match is not None
        path = match.group(1)
    sockets = evidence.postfix_sockets()
    if sockets is not None and path.rsplit("/", 1)[-1] in sockets:
        return  # Dovecot provides the socket now.
    socket = f"/var/spool/postfix/{path}" if not path.startswith("/") else path
    yield Hit(
        f"Postfix is set to check passwords through Dovecot's socket {code(path)}, but "
        "Dovecot does not provide it, so Postfix ends every session that would offer a "
        "login and the mail program is disconnected. In "
        "`/etc/dovecot/conf.d/10-master.conf`, inside `service auth { }`, add "
        f"{code(f'unix_listener {socket} {{ mode = 0660 user = postfix group = postfix }}')}, "
        "then `sudo systemctl restart dovecot`.",
        (*connects[-1:], *fatals[-1:]),
        newest(connects[-1:] + fatals[-1:]),
    )


def mail_log_missing(evidence: Evidence, context: DiagnosisContext) -> Iterator[Hit]:
    """Find shell history that looks for /var/log/mail.log, which Debian 12 lacks."""
    history = evidence.history()
    if not history or evidence.mail_log_exists() is not False:
        return
    yield Hit(
        "There is no `/var/log/mail.log` on Debian 12: without rsyslog, Postfix and "
        "Dovecot log to the systemd journal. Read it with "
        "`sudo journalctl -u postfix@- -u dovecot --since -1h`, or follow new lines with "
        "`sudo journalctl -f -u postfix@- -u dovecot`.",
        tuple(history[-2:]),
    )
