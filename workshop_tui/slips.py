"""Login slips: one printable HTML page with a slip per team of a roster.

The page is laid out for A4 as rows of two slips. Each row is a block that must not
break across pages, so a slip is never split. Every value from the roster is
HTML-escaped. The file contains passwords, so it is written with mode 0600.
"""

from __future__ import annotations

import html
from pathlib import Path

from workshop_tui.core.errors import WorkshopError
from workshop_tui.core.files import write_atomic
from workshop_tui.core.roster import Roster, Team

STYLE = """
@page { size: A4; margin: 10mm; }
* { box-sizing: border-box; }
body { margin: 0; font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; color: #000; }
.hint { max-width: 190mm; margin: 6mm auto; padding: 3mm 4mm; background: #eef3ff;
  font-size: 11pt; }
.sheet { width: 190mm; margin: 0 auto; padding-top: 3mm; }
.row { display: flex; break-inside: avoid; page-break-inside: avoid; margin-bottom: -1px; }
.slip { position: relative; width: 95mm; min-height: 66mm; margin-right: -1px;
  padding: 4mm 5mm 3mm; border: 1px dashed #666; font-size: 9.5pt; line-height: 1.25; }
.slip::before { content: "\\2702"; position: absolute; top: -0.6em; left: 5mm;
  padding: 0 1mm; background: #fff; font-size: 12pt; line-height: 1; }
.title { margin: 0; font-size: 9pt; color: #333; }
.team { margin: 0.3mm 0 1mm; font-size: 15pt; font-weight: bold; }
.partner { margin: -0.5mm 0 1mm; }
table { border-collapse: collapse; }
th { padding: 0.3mm 3mm 0.3mm 0; text-align: left; vertical-align: baseline;
  font-weight: normal; color: #333; white-space: nowrap; }
td { padding: 0.3mm 0; vertical-align: baseline; overflow-wrap: anywhere; }
.mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace;
  font-variant-numeric: slashed-zero; }
.password { font-size: 15pt; font-weight: bold; letter-spacing: 0.04em; }
.keys { margin: 1.5mm 0 0; font-size: 8pt; }
.keys ul { margin: 0.3mm 0 0; padding-left: 3.5mm; font-size: 7pt; line-height: 1.2; }
.keys li { overflow-wrap: anywhere; }
.start { margin: 1.5mm 0 0; padding: 1mm 2mm; background: #f0f0f0; font-size: 9pt;
  overflow-wrap: anywhere; }
.word { white-space: nowrap; }
/* The top padding keeps the first row's scissors inside the printed area. */
@media print { .hint { display: none; } .sheet { padding-top: 2.5mm; } }
"""


def render_slips(roster: Roster) -> str:
    """Return the HTML page with one slip per team of ``roster``, in roster order."""
    title = html.escape(roster.title)
    count = len(roster.teams)
    slips = [_render_slip(roster, team) for team in roster.teams]
    rows = "".join(
        f'<div class="row">{"".join(slips[start : start + 2])}</div>'
        for start in range(0, count, 2)
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Login slips: {title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f'<p class="hint">{count} login slip{"" if count == 1 else "s"} for {title}. '
        "Print this page on A4 paper at 100% scale and cut along the dashed lines. "
        "To get a PDF, choose &quot;Save as PDF&quot; as the printer. "
        "The page contains passwords: delete the file when the workshop is over.</p>\n"
        f'<main class="sheet">{rows}</main>\n</body>\n</html>\n'
    )


def _render_slip(roster: Roster, team: Team) -> str:
    login = team.login
    rows = [("Host", html.escape(login.host))]
    if login.port != 22:
        rows.append(("Port", str(login.port)))
    rows.append(("User", f'<span class="mono">{html.escape(login.user)}</span>'))
    if login.key_file is not None:
        key_name = html.escape(login.key_file.name)
        rows.append(("Login", f'log in with the key file <span class="mono">{key_name}</span>'))
    else:
        password = html.escape(login.password or "")
        rows.append(("Password", f'<span class="mono password">{password}</span>'))
    table = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in rows)

    parts = [
        '<section class="slip">',
        f'<p class="title">{html.escape(roster.title)}</p>',
        f'<p class="team">{html.escape(team.name)}</p>',
    ]
    partner = roster.partner_of(team)
    if partner is not None:
        parts.append(f'<p class="partner">Partner team: {html.escape(partner.name)}</p>')
    parts.append(f"<table>{table}</table>")
    if team.host_keys:
        items = "".join(f'<li class="mono">{html.escape(key)}</li>' for key in team.host_keys)
        parts.append(
            '<div class="keys">Trust the server only if its key fingerprint is one of these:'
            f"<ul>{items}</ul></div>"
        )
    parts.append(f'<p class="start mono">{_connect_command(team)}</p>')
    parts.append("</section>")
    return "".join(parts)


def _connect_command(team: Team) -> str:
    """Return the HTML of the command that starts the app for ``team``.

    The command may wrap only between its words, never at a hyphen inside one.
    """
    command = f'<span class="word">workshop-tui connect</span> {html.escape(team.login.target)}'
    if team.login.key_file is not None:
        key_name = html.escape(team.login.key_file.name)
        command += f' <span class="word">--key {key_name}</span>'
    return command


def write_slips(roster: Roster, output: Path, *, force: bool = False) -> None:
    """Write the slips of ``roster`` to ``output`` atomically with mode 0600.

    Raises:
        WorkshopError: ``output`` exists and ``force`` is False, or it is a directory.
    """
    if output.is_dir():
        raise WorkshopError(f"{output} is a directory; give a file name such as slips.html")
    if output.exists() and not force:
        raise WorkshopError(f"{output} already exists; pass --force to replace it")
    write_atomic(output, render_slips(roster).encode("utf-8"))
