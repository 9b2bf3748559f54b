"""Reading the sections: real scripts on a machine without mail programs, and damaged output."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from workshop_tui.core.diagnosis import DiagnosisContext, Evidence, match_rules
from workshop_tui.core.diagnosis.evidence import Section
from workshop_tui.core.diagnosis.sections import SECTIONS, evidence_probes
from workshop_tui.core.probes import (
    NO_RECORD_STATUS,
    ProbeOutput,
    build_batch,
    new_boundary,
    parse_batch,
)

from . import lines
from .lines import CONTEXT, HEALTHY

ALL_PORTS = frozenset({25, 143, 465, 587, 993})
MAIL_RULES_FREE_OF_HOST = {"mail-log-missing", "installer-waiting"}
"""Rules that read this machine's shell history and processes, which a test cannot fix."""


def run_sections_locally(tmp_path: Path) -> list[ProbeOutput]:
    probes = evidence_probes("nobody", "localhost")
    boundary = new_boundary()
    script = build_batch(probes, boundary=boundary, login_user="nobody", run_as_root=False)
    done = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        timeout=120,
        cwd=tmp_path,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(tmp_path)},
        check=False,
    )
    return parse_batch(done.stdout.decode("utf-8", "replace"), boundary=boundary, count=len(probes))


@pytest.mark.skipif(
    shutil.which("postconf") is not None or shutil.which("doveconf") is not None,
    reason="this machine has Postfix or Dovecot",
)
def test_sections_without_mail_programs(tmp_path: Path) -> None:
    outputs = run_sections_locally(tmp_path)
    assert [output.exit_status for output in outputs].count(NO_RECORD_STATUS) == 0
    evidence = Evidence.from_outputs(outputs)
    for name in ("postconf", "postconf-values", "postfix-services", "postfix-sockets"):
        assert evidence.section(name).absent == "postconf", name
    for name in ("doveconf", "doveconf-values"):
        assert evidence.section(name).absent == "doveconf", name
    assert evidence.section("queue").absent == "postqueue"
    assert not evidence.postfix_installed
    assert not evidence.dovecot_installed
    assert evidence.postconf("mydestination") is None
    assert evidence.queue() is None
    # Without systemd (as in some containers) systemctl prints nothing at all.
    assert evidence.unit("postfix@-.service").get("LoadState") in (None, "not-found")
    assert evidence.labelled("names").get("fqdn")
    assert not any(new_boundary()[:7] in process.args for process in evidence.processes())
    found = match_rules(evidence, DiagnosisContext(user="nobody", ports=ALL_PORTS))
    assert {finding.rule for finding in found} <= MAIL_RULES_FREE_OF_HOST


def test_every_section_is_gathered_once() -> None:
    assert len(SECTIONS) == len(set(SECTIONS))
    probes = evidence_probes("learner", "alpha.lab.test")
    assert len(probes) == len(SECTIONS)
    assert all(probe.as_root for probe in probes)


def test_values_are_quoted_in_scripts() -> None:
    hostile = "x'; touch /tmp/owned #"
    scripts = [probe.script for probe in evidence_probes(hostile, hostile)]
    assert any("'x'\"'\"'; touch /tmp/owned #'" in script for script in scripts)
    assert not any(f" {hostile}" in script for script in scripts)


def test_empty_output_finds_nothing() -> None:
    evidence = Evidence.from_outputs([ProbeOutput(0, "", False)] * len(SECTIONS))
    assert not evidence.postfix_installed
    assert evidence.listeners() == []
    assert evidence.journal == []
    assert evidence.processes() == []
    assert evidence.mail_log_exists() is None
    assert match_rules(evidence, DiagnosisContext(user="learner", ports=ALL_PORTS)) == []


def test_unfinished_batch_finds_nothing() -> None:
    done = [ProbeOutput(0, HEALTHY[name], False) for name in SECTIONS[:3]]
    evidence = Evidence.from_outputs(done)
    assert evidence.postfix_installed
    assert not evidence.has("queue")
    assert evidence.listeners() is None
    assert match_rules(evidence, DiagnosisContext(user="learner", ports=ALL_PORTS)) == []


def test_cut_journal_keeps_complete_lines() -> None:
    cut = (
        "The probe's output was cut off before it finished; output so far:\n"
        f"{lines.UNKNOWN_USER}\n{lines.DOMAIN_NOT_FOUND[:120]}"
    )
    texts = dict(HEALTHY, **{"journal-units": ""})
    sections = {name: Section(name, text) for name, text in texts.items()}
    sections["journal-units"] = Section("journal-units", cut, NO_RECORD_STATUS, True)
    found = match_rules(Evidence(sections), CONTEXT)
    assert [finding.rule for finding in found] == ["unknown-user"]


def test_absent_program_hides_output() -> None:
    section = Section("doveconf", "@absent doveconf\n")
    assert section.absent == "doveconf"
    assert section.lines == []


def test_units_in_any_property_order() -> None:
    evidence = Evidence.from_texts({"units": lines.POSTFIX_STOPPED_UNITS})
    assert evidence.unit("postfix@-.service") == {
        "Result": "success",
        "Id": "postfix@-.service",
        "LoadState": "loaded",
        "ActiveState": "inactive",
        "SubState": "dead",
    }
    assert evidence.unit("postfix.service")["SubState"] == "exited"
    assert evidence.unit("nginx.service") == {}


def test_listeners_on_ipv4_and_ipv6() -> None:
    listeners = Evidence.from_texts({"sockets": HEALTHY["sockets"]}).listeners()
    assert listeners is not None
    assert sorted({listener.port for listener in listeners}) == [22, 25, 143, 993]
    assert len([listener for listener in listeners if listener.port == 25]) == 2


def test_processes_parsed() -> None:
    processes = Evidence.from_texts({"processes": lines.INSTALLER_WAITING}).processes()
    assert [(p.pid, p.ppid, p.seconds, p.command) for p in processes] == [
        (8532, 8526, 14, "apt-get"),
        (8539, 8532, 14, "dpkg"),
        (8546, 8539, 14, "frontend"),
        (8559, 8546, 14, "config"),
    ]


def test_settings_and_journal_merge() -> None:
    evidence = Evidence.from_texts(HEALTHY)
    assert evidence.postconf("home_mailbox") == ""
    assert evidence.postconf("mydestination") == (
        "alpha.lab.test, alpha.lab.test, localhost.lab.test, , localhost"
    )
    assert evidence.doveconf("disable_plaintext_auth") == "yes"
    journal = evidence.journal
    assert len(journal) == len(set(journal))
    assert journal == sorted(journal, key=lambda line: line.split(" ", 1)[0])
    assert "submission/inet" not in evidence.postfix_services()
    assert "smtp/inet" in evidence.postfix_services()
