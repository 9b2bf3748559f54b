"""Reading one team's VPS for the board: one SSH connection, one exec per refresh.

A refresh sends a single probe batch that reads the attendee app's progress file,
prints the end of the current step's latest run output and runs the shell checks of
the team's current lesson. Protocol checks run at the same time in their own tunnels.
The board only reads: nothing here changes a file or a service on the VPS.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from workshop_tui.core.board.checks import BoardChecks
from workshop_tui.core.board.diagnosis import TeamDiagnosis, diagnose_team
from workshop_tui.core.board.model import Reach, TeamSnapshot
from workshop_tui.core.board.problems import key_not_in_roster, login_rejected
from workshop_tui.core.board.reading import (
    current_run,
    describe_progress_problem,
    group_by_step,
    output_probe,
    parse_output,
    progress_probe,
    read_progress,
    steps_to_check,
)
from workshop_tui.core.errors import (
    AuthenticationFailed,
    HostKeyChanged,
    HostKeyNotTrusted,
    RemoteError,
)
from workshop_tui.core.hostkeys import KnownHosts, format_host_port
from workshop_tui.core.lessons import Lesson
from workshop_tui.core.login import HostKeyInfo
from workshop_tui.core.probes import NO_RECORD_STATUS
from workshop_tui.core.progress import RunRecord, ServerProgress
from workshop_tui.core.remote import Connection
from workshop_tui.core.roster import Team
from workshop_tui.core.session import FACTS_COMMAND, HostFacts
from workshop_tui.core.variables import lesson_values

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL = 5.0
"""Seconds between two refreshes of one team."""

LOGIN_RETRY_SECONDS = 60.0
"""Seconds before logging in again after the VPS rejected the roster's login. Every try
sends the password and leaves a failed login in the VPS's log, and a wrong password in
the roster does not fix itself between two refreshes."""


class _Refused(RemoteError):
    """The VPS responded, but the board must not or cannot log in, and waiting does not help."""


@dataclass(frozen=True)
class _Reading:
    """The data of one exec, before it becomes a snapshot."""

    snapshot: TeamSnapshot
    lesson: Lesson | None
    """The lesson whose checks ran."""

    run: RunRecord | None
    """The run whose output was read."""


class TeamPoller:
    """Reads one team's VPS; keeps its SSH connection open between refreshes.

    ``refresh`` blocks, so the board calls it from a thread worker. One poller allows
    one refresh at a time; a second caller waits for the first to finish.

    Args:
        team: The team and the login of its VPS, from the roster.
        lessons: The lessons the board shows; checks of other lessons never run.
        known_hosts: Host keys trusted on first use, shared by all pollers.
        variables: Lesson variables from the roster (team, partner, ...); they win
            over the values learned from the VPS and the lessons' defaults.
        connect_timeout: Seconds allowed for each stage of logging in.
        roster: The roster file, named in problems that the facilitator fixes there;
            None names the team's line only.
    """

    def __init__(
        self,
        team: Team,
        lessons: Sequence[Lesson],
        *,
        known_hosts: KnownHosts,
        variables: Mapping[str, str] = MappingProxyType({}),
        connect_timeout: float = 10.0,
        roster: Path | None = None,
    ) -> None:
        self.team = team
        self.roster = roster
        self.lessons: dict[str, Lesson] = {lesson.id: lesson for lesson in lessons}
        self.variables = dict(variables)
        self.snapshot = TeamSnapshot(team)
        """The latest snapshot; ``reach`` is "connecting" until the first refresh ends."""
        self._connection = Connection(team.login, known_hosts, connect_timeout=connect_timeout)
        self._connect_timeout = connect_timeout
        self._facts: HostFacts | None = None
        self._refresh_lock = threading.Lock()
        self._closed = False
        self._login_rejected_at: float | None = None
        self._checks = BoardChecks(self._connection, team.name)

    @property
    def _where(self) -> str:
        return format_host_port(self.team.login.host, self.team.login.port)

    def refresh(self) -> TeamSnapshot:
        """Connect if needed, read the VPS and return the new snapshot.

        Network and login problems (any ``RemoteError``) raise no exception. The
        snapshot then has ``reach`` "unreachable" or "refused", a ``problem`` text and
        the data of the last good refresh, and the next call tries again. After
        :meth:`close`, this returns the latest snapshot without connecting.
        """
        with self._refresh_lock:
            if self._closed:
                return self.snapshot
            connection = self._connection
            execs_before, tunnels_before = connection.exec_count, connection.tunnel_count
            try:
                if not connection.is_open or self._facts is None:
                    if self._login_rejected_recently():
                        return self.snapshot
                    self._connect()
                reading = self._read(self.snapshot)
                if self._lags_behind(reading):
                    # The progress file names another lesson or a new run than the one
                    # this exec read, so read once more for a grid that matches it.
                    reading = self._read(reading.snapshot)
                snapshot = reading.snapshot
            except RemoteError as error:
                snapshot = self._failed(error)
            snapshot = dataclasses.replace(
                snapshot,
                round_trips=connection.exec_count - execs_before,
                tunnels=connection.tunnel_count - tunnels_before,
            )
            self._log_change(self.snapshot, snapshot)
            self.snapshot = snapshot
            if self._closed:
                # close() ran during this refresh, which may have connected again.
                connection.close()
            return snapshot

    def diagnose(self) -> TeamDiagnosis | None:
        """Look for known faults behind the latest snapshot's failing checks; blocks. Runs one
        more exec as root (see :func:`diagnose_team`). Returns None when no check fails, the
        VPS is not online or the poller is closed."""
        with self._refresh_lock:
            snapshot, connection = self.snapshot, self._connection
            if self._closed or snapshot.reach != "online" or not connection.is_open:
                return None
            lesson = self.lessons.get(snapshot.lesson_id or "")
            sudo = self._checks.recent_sudo_problem()
            values = self._values(lesson)
            return diagnose_team(connection, snapshot, lesson, values, sudo_problem=sudo)

    def close(self) -> None:
        """Close the SSH connection for good; later refreshes do nothing."""
        self._closed = True
        self._connection.close()

    # Connecting --------------------------------------------------------------------

    def _connect(self) -> None:
        """Log in, check the host key against the roster and learn the VPS's names."""
        self._facts = None
        seen: list[HostKeyInfo] = []

        def confirm_new_key(info: HostKeyInfo) -> bool:
            seen.append(info)
            return not self.team.host_keys or info.fingerprint in self.team.host_keys

        try:
            info = self._connection.open(confirm_new_key)
        except HostKeyNotTrusted:
            raise _Refused(key_not_in_roster(self.team, self.roster, seen[0].fingerprint)) from None
        if self.team.host_keys and info.fingerprint not in self.team.host_keys:
            # A key trusted before (known_hosts) must also be one the roster lists.
            self._connection.close()
            raise _Refused(key_not_in_roster(self.team, self.roster, info.fingerprint))
        result = self._connection.exec(FACTS_COMMAND, timeout=self._connect_timeout)
        self._facts = HostFacts.parse(
            result.stdout.decode("utf-8", "replace"),
            is_root=self._connection.is_root,
            home=self._connection.home,
        )

    def _login_rejected_recently(self) -> bool:
        rejected_at = self._login_rejected_at
        if rejected_at is None or time.monotonic() - rejected_at >= LOGIN_RETRY_SECONDS:
            self._login_rejected_at = None
            return False
        return True

    def _failed(self, error: RemoteError) -> TeamSnapshot:
        """Return the previous snapshot with the reach and problem that ``error`` means."""
        reach: Reach
        problem = str(error)
        if isinstance(error, _Refused | HostKeyChanged | AuthenticationFailed):
            reach = "refused"
            if isinstance(error, AuthenticationFailed):
                self._login_rejected_at = time.monotonic()
                problem = login_rejected(self.team, self.roster, error)
        else:
            # HostUnreachable, ConnectionLost, RemoteTimeout and any other RemoteError:
            # the next refresh logs in again on a fresh connection.
            reach = "unreachable"
            self._connection.close()
        return dataclasses.replace(self.snapshot, reach=reach, problem=problem)

    # Reading -----------------------------------------------------------------------

    def _read(self, previous: TeamSnapshot) -> _Reading:
        """Read the VPS in one exec, running the checks of the lesson that ``previous``
        shows open (two execs when sudo refuses; see :meth:`_evaluate`)."""
        lesson = self.lessons.get(previous.current_lesson or "")
        run = current_run(previous.progress, lesson)
        values = self._values(lesson)
        checks = [
            (step, check)
            for step in (steps_to_check(lesson, previous.progress) if lesson else [])
            for check in step.checks
        ]
        extra = [progress_probe()]
        separator = ""
        if run is not None:
            probe, separator = output_probe(run)
            extra.append(probe)
        started = time.monotonic()
        results, outputs, sudo_problem = self._checks.evaluate(checks, values, extra)

        if outputs[0].exit_status == NO_RECORD_STATUS:
            # The batch did not even read the progress file, its first probe: the SSH
            # server opened no channel in time or the batch timed out at once.
            waited = time.monotonic() - started
            raise RemoteError(
                f"{self._where} did not respond to the board's request within {waited:.0f} s; "
                "its network link may be down."
            )
        problems = [sudo_problem] if sudo_problem else []
        progress, written_at = previous.progress, previous.written_at
        try:
            shared = read_progress(outputs[0])
        except ValueError as error:
            problems.append(describe_progress_problem(self._where, error))
        else:
            progress = shared.progress if shared is not None else None
            written_at = shared.written_at if shared is not None else None
            if (
                shared is not None
                and shared.team
                and shared.team.casefold() != self.team.name.casefold()
            ):
                problems.append(
                    f"The progress file on {self._where} was written for team {shared.team}, "
                    f"not {self.team.name}; check the logins in the roster."
                )
        if progress is not None and progress.current_lesson not in (None, *self.lessons):
            problems.append(
                f"Team {self.team.name} has the lesson '{progress.current_lesson}' open, "
                "which this board does not show."
            )
        snapshot = TeamSnapshot(
            team=self.team,
            reach="online",
            problem=" ".join(problems) or None,
            progress=progress,
            written_at=written_at,
            lesson_id=lesson.id if lesson else None,
            results=group_by_step(results),
            last_output=parse_output(outputs[1], separator) if run is not None else "",
            polled_at=time.time(),
        )
        return _Reading(snapshot, lesson, run)

    def _values(self, lesson: Lesson | None) -> dict[str, str]:
        facts = self._facts
        return lesson_values(
            self.team.login,
            facts.hostname if facts else None,
            facts.fqdn if facts else None,
            lesson,
            self.variables,
        )

    def _lags_behind(self, reading: _Reading) -> bool:
        """Return whether the progress just read names another lesson or run than was read."""
        progress: ServerProgress | None = reading.snapshot.progress
        lesson = self.lessons.get(progress.current_lesson or "") if progress else None
        if lesson is not reading.lesson:
            return True
        run = current_run(progress, lesson)
        return run is not None and (reading.run is None or run.remote_dir != reading.run.remote_dir)

    def _log_change(self, old: TeamSnapshot, new: TeamSnapshot) -> None:
        """Log a change of reach or problem once, not on every refresh."""
        if (old.reach, old.problem) == (new.reach, new.problem):
            return
        target = self.team.login.target
        if new.reach == "online" and new.problem is None:
            logger.info("team %s (%s) is online", self.team.name, target)
        elif new.reach == "online":
            logger.warning("team %s (%s): %s", self.team.name, target, new.problem)
        else:
            logger.warning("team %s (%s) is %s: %s", self.team.name, target, new.reach, new.problem)
