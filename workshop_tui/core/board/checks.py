"""Running a team's checks for the board, with sudo refusals and protocol checks spaced out.

The board reads a VPS every few seconds, and the VPS logs what it does. With a wrong
sudo password every refresh would add a failed sudo attempt, and every SMTP or IMAP
check adds a connection to the journal. So :class:`BoardChecks` leaves root checks out
for a while after sudo refused, and reuses a protocol check's result until it is old
enough to run again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence

from workshop_tui.core.board.pacing import ProtocolCheckSpacing
from workshop_tui.core.board.reading import missing_variables, unchecked
from workshop_tui.core.checks import Check, CheckResult, ProtocolCheck, ShellCheck
from workshop_tui.core.checks.engine import evaluate_checks_with_probes
from workshop_tui.core.errors import RemoteError, SudoFailed, WorkshopError
from workshop_tui.core.lessons import Step
from workshop_tui.core.probes import Probe, ProbeOutput
from workshop_tui.core.remote import Connection

logger = logging.getLogger(__name__)

SUDO_RETRY_SECONDS = 60.0
"""Seconds to leave out checks that need root after sudo refused them. Each try with a
wrong password is a failed sudo attempt in the VPS's log, so the board does not repeat
it on every refresh."""


class BoardChecks:
    """Runs the checks of one team's refreshes over the poller's connection."""

    def __init__(self, connection: Connection, team_name: str) -> None:
        self.connection = connection
        self.team_name = team_name
        self.sudo_failed_at: float | None = None
        self.sudo_problem = ""
        self.protocol_results = ProtocolCheckSpacing()

    def recent_sudo_problem(self) -> str:
        """Return sudo's message while root checks are left out, else an empty string."""
        return self.sudo_problem if self.sudo_failed_at is not None else ""

    def evaluate(
        self,
        checks: Sequence[tuple[Step, Check]],
        values: Mapping[str, str],
        extra: Sequence[Probe],
    ) -> tuple[list[tuple[Step, CheckResult]], list[ProbeOutput], str]:
        """Run the checks and the extra probes; return results, outputs and a sudo problem.

        A check that needs a variable without a value fails with that reason instead
        of running. When sudo refuses, the batch runs once more without the checks
        that need root, which then fail with sudo's message.
        """
        results: dict[int, CheckResult] = {}
        runnable: dict[int, Check] = {}
        for index, (_, check) in enumerate(checks):
            missing = missing_variables(check, values)
            if missing:
                names = ", ".join(f"{{{{ {name} }}}}" for name in missing)
                results[index] = unchecked(
                    check, f"not checked: the board has no value for {names}"
                )
            else:
                runnable[index] = check
        for index, check in list(runnable.items()):
            recent = (
                self.protocol_results.recent(check) if isinstance(check, ProtocolCheck) else None
            )
            if recent is not None:
                results[index] = recent
                del runnable[index]
        sudo_problem = ""
        if self.sudo_failed_at is not None:
            if time.monotonic() - self.sudo_failed_at < SUDO_RETRY_SECONDS:
                sudo_problem = self._skip_root(runnable, values, results)
            else:
                self.sudo_failed_at = None
        try:
            outputs = self._run(runnable, values, extra, results)
        except SudoFailed as error:
            # The login works but sudo refuses (password changed, user removed from the
            # sudo group, broken sudoers). The VPS is reachable and the team's position
            # still readable, so the team stays "online" with the problem shown.
            self.sudo_failed_at = time.monotonic()
            self.sudo_problem = str(error)
            logger.warning(
                "team %s: sudo failed on %s: %s",
                self.team_name,
                self.connection.login.target,
                error,
            )
            sudo_problem = self._skip_root(runnable, values, results)
            outputs = self._run(runnable, values, extra, results)
        return [(checks[i][0], results[i]) for i in range(len(checks))], outputs, sudo_problem

    def _run(
        self,
        runnable: Mapping[int, Check],
        values: Mapping[str, str],
        extra: Sequence[Probe],
        results: dict[int, CheckResult],
    ) -> list[ProbeOutput]:
        indexes = list(runnable)
        try:
            found, outputs = evaluate_checks_with_probes(
                self.connection, list(runnable.values()), values, extra, allow_wait=False
            )
        except RemoteError:
            raise
        except WorkshopError as error:
            # Only a variable without a value raises here, which the filter above
            # should have caught; fail the checks instead of the whole refresh.
            logger.warning("team %s: checks could not run: %s", self.team_name, error)
            for index, check in runnable.items():
                results[index] = unchecked(check, f"not checked: {error}")
            _, outputs = evaluate_checks_with_probes(
                self.connection, [], values, extra, allow_wait=False
            )
            return outputs
        results.update(zip(indexes, found, strict=True))
        for result in found:
            if isinstance(result.check, ProtocolCheck):
                self.protocol_results.remember(result)
        return outputs

    def _skip_root(
        self,
        runnable: dict[int, Check],
        values: Mapping[str, str],
        results: dict[int, CheckResult],
    ) -> str:
        """Move the checks that need root from ``runnable`` to failed ``results``."""
        for index, check in list(runnable.items()):
            if isinstance(check, ShellCheck) and check.probe(values).as_root:
                del runnable[index]
                results[index] = unchecked(check, f"not checked: {self.sudo_problem}")
        return f"Checks that need root did not run: {self.sudo_problem}"
