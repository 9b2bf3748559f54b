"""The read-only shell sections that the diagnosis gathers from the VPS.

:func:`evidence_probes` returns one probe per section. They all run as root in one
batch, so gathering costs a single SSH exec. Every section tolerates a missing program
(Postfix or Dovecot not installed yet): it prints ``@absent PROGRAM`` instead. Each
section is bounded in lines and bytes and has its own time limit, so one slow command
cannot hide the others.
"""

from __future__ import annotations

import shlex

from workshop_tui.core.probes import Probe

JOURNAL_MINUTES = 15
"""How far back the journal is read."""

JOURNAL_MAX_LINES = 300
"""Maximum journal lines per journal section (the newest ones are kept)."""

SECTION_TIME_LIMIT = 6.0
"""Seconds each section may take before it is stopped."""

ABSENT = "@absent "
"""Start of the line a section prints when the program it reads is not installed."""

UNITS = ("postfix.service", "postfix@-.service", "dovecot.service")

# Parameters whose effective values the rules compare; `postconf -x` expands $names.
POSTFIX_PARAMETERS = (
    "mydestination", "myhostname", "mydomain", "myorigin", "home_mailbox",
    "mail_spool_directory", "mailbox_command", "mailbox_transport", "virtual_mailbox_domains",
    "relay_domains", "inet_interfaces", "mynetworks", "relayhost", "queue_directory",
    "smtpd_sasl_auth_enable", "smtpd_sasl_type", "smtpd_sasl_path", "smtpd_tls_cert_file",
)  # fmt: skip

DOVECOT_PARAMETERS = (
    "mail_location", "disable_plaintext_auth", "auth_username_format", "ssl", "ssl_cert",
    "auth_mechanisms", "protocols",
)  # fmt: skip

# Interactive commands whose use in the shell history the rules look for; only matching
# history lines leave the server.
HISTORY_PATTERN = r"/var/log/(mail\.(log|err|warn|info)|maillog)"


def _needs(program: str) -> str:
    return f"command -v {program} >/dev/null 2>&1 || {{ echo '{ABSENT}{program}'; exit 0; }}\n"


def _journal(matches: str) -> str:
    return (
        _needs("journalctl")
        + f"journalctl -q --no-pager -o short-iso --since -{JOURNAL_MINUTES}min "
        + f"-n {JOURNAL_MAX_LINES} {matches} | cut -c1-600\n"
    )


def _section_scripts(user: str, domain: str | None) -> dict[str, str]:
    quoted_user = shlex.quote(user)
    home = f"h=$(getent passwd -- {quoted_user} | cut -d: -f6)\n"
    lookup = ""
    if domain:
        lookup = (
            f"getent ahosts {shlex.quote(domain)} | "
            "awk '{print \"address \" $1}' | sort -u | head -n 4\n"
        )
    return {
        "postconf": _needs("postconf") + "postconf -n 2>&1 | head -n 300\n",
        "postconf-values": _needs("postconf") + f"postconf -x {' '.join(POSTFIX_PARAMETERS)}\n",
        "postfix-services": _needs("postconf") + "postconf -M 2>&1 | head -n 100\n",
        "postfix-sockets": _needs("postconf")
        + "q=$(postconf -h queue_directory 2>/dev/null) || q=/var/spool/postfix\n"
        + 'find "$q/private" -maxdepth 1 -type s -printf "%f\\n" 2>/dev/null | head -n 100\n',
        "doveconf": _needs("doveconf") + "doveconf -n 2>&1 | head -n 300\n",
        "doveconf-values": _needs("doveconf") + f"doveconf {' '.join(DOVECOT_PARAMETERS)}\n",
        "journal-units": _journal("-u 'postfix*' -u dovecot.service"),
        "journal-mail": _journal("SYSLOG_FACILITY=2"),
        "queue": _needs("postqueue") + "postqueue -p 2>&1 | head -n 80 | cut -c1-300\n",
        "sockets": "ss -Hltnp | head -n 100\n",
        "units": "systemctl show --property=Id,LoadState,ActiveState,SubState,Result -- "
        + " ".join(UNITS)
        + "\n",
        # Package tools, debconf's frontend and the maintainer scripts it runs. This
        # probe's own processes (shells, sudo and text tools) are left out, and dpkg's
        # directory is never written in one piece, so its command line cannot match.
        "processes": "d=/var/lib/dpkg\n"
        'ps -eo pid=,ppid=,etimes=,comm=,args= | awk -v dpkg="$d/" '
        "'$4 !~ /^(bash|sh|sudo|timeout|runuser|env|awk|sed|head|cut|ps)$/ && "
        "($4 ~ /^(apt|apt-get|aptitude|dpkg|frontend|whiptail|dialog)$/ || index($0, dpkg))' "
        "| head -n 40 | cut -c1-300\n"
        # While dpkg unpacks a package, its control file names the package.
        "sed -n 's/^Package: /unpacking /p' \"$d/tmp.ci/control\" 2>/dev/null\n"
        "true\n",
        "mail-log": "if [ -e /var/log/mail.log ]; then echo 'mail.log present'; "
        "else echo 'mail.log missing'; fi\n"
        "dpkg-query -W -f='rsyslog ${db:Status-Abbrev}\\n' rsyslog 2>/dev/null "
        "|| echo 'rsyslog none'\n",
        "history": home
        + 'for f in "$h/.bash_history" /root/.bash_history; do\n'
        + '  [ -f "$f" ] || continue\n'
        + '  tail -n 200 -- "$f" | grep -E -- '
        + shlex.quote(HISTORY_PATTERN)
        + " | tail -n 5 | cut -c1-300\n"
        + "done | sort -u\n",
        "names": 'echo "fqdn $(hostname -f 2>/dev/null)"\n'
        + 'echo "mailname $(head -c 200 /etc/mailname 2>/dev/null)"\n'
        + lookup,
        "mailbox": home
        + f"u={quoted_user}\n"
        + 'if [ -f "/var/mail/$u" ]; then echo "mbox /var/mail/$u $(stat -c %s "/var/mail/$u")"; '
        + 'else echo "mbox /var/mail/$u missing"; fi\n'
        + 'if [ -n "$h" ] && [ -d "$h/Maildir" ]; then echo "maildir $h/Maildir '
        + '$(find "$h/Maildir/new" "$h/Maildir/cur" -type f 2>/dev/null | wc -l)"; '
        + 'else echo "maildir ${h:-~$u}/Maildir missing"; fi\n',
        "firewall": "if command -v nft >/dev/null 2>&1; then nft list ruleset 2>/dev/null | "
        "grep -E 'dport[^#]*([^0-9]25([^0-9]|$)|smtp)' | head -n 10 | "
        "sed 's/^[[:space:]]*/nft /'; fi\n"
        "if command -v iptables >/dev/null 2>&1; then iptables -S OUTPUT 2>/dev/null | "
        "grep -E -- '--dport (25|smtp)( |$)' | head -n 10 | sed 's/^/iptables /'; fi\n"
        "true\n",
        "disk": "df -P /var/spool/postfix /var/mail /home / 2>/dev/null | tail -n +2 | sort -u\n",
        "certificates": _needs("openssl")
        + "d=$(doveconf -h ssl_cert 2>/dev/null); d=${d#<}\n"
        + "p=$(postconf -h smtpd_tls_cert_file 2>/dev/null)\n"
        + 'for pair in "dovecot $d" "postfix $p"; do\n'
        + "  set -- $pair\n"
        + '  [ -n "$2" ] && [ -r "$2" ] || continue\n'
        + '  openssl x509 -noout -subject -issuer -nameopt compat -in "$2" 2>/dev/null | '
        + 'sed "s|^|$1 $2 |"\n'
        + "done\n",
    }


SECTIONS = tuple(_section_scripts("user", None))
"""Names of the sections, in the order of the probes."""


def evidence_probes(user: str, domain: str | None) -> list[Probe]:
    """Return the probes that gather every section, in the order of :data:`SECTIONS`.

    Args:
        user: The login user, whose mailbox and shell history are read.
        domain: The attendee's mail domain, looked up in DNS; None skips the lookup.
    """
    scripts = _section_scripts(user, domain)
    return [
        Probe(script=scripts[name], as_root=True, time_limit=SECTION_TIME_LIMIT)
        for name in SECTIONS
    ]
