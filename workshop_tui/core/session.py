"""One attendee's session: their login, their VPS, the lessons and their progress.

This is the API the attendee app uses. Every method that talks to the VPS blocks, so
the UI calls them from thread workers.
"""

from __future__ import annotations

import codecs
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from workshop_tui.core import diagnosis
from workshop_tui.core.checks import CheckResult
from workshop_tui.core.checks.engine import evaluate_checks
from workshop_tui.core.errors import ConnectionLost, RemoteError, WorkshopError
from workshop_tui.core.hostkeys import KnownHosts
from workshop_tui.core.lessons import Lesson, Step
from workshop_tui.core.probes import new_boundary
from workshop_tui.core.progress import ProgressStore, RunRecord, ServerProgress
from workshop_tui.core.progress_sync import (
    SharedProgressWriter,
    facts_and_progress_command,
    split_facts_output,
)
from workshop_tui.core.remote import Connection, HostKeyInfo, Login, NewKeyConfirmation
from workshop_tui.core.runs import (
    RunHandle,
    RunInterrupted,
    follow_run,
    run_status,
    start_run,
    stop_run,
)
from workshop_tui.core.session_progress import ProgressKeeping
from workshop_tui.core.shared_progress import write_shared_progress
from workshop_tui.core.variables import lesson_values

logger = logging.getLogger(__name__)

FACTS_COMMAND = "hostname; hostname -f 2>/dev/null || hostname"


@dataclass(frozen=True)
class HostFacts:
    """Facts about the VPS, collected right after logging in."""

    hostname: str
    fqdn: str
    is_root: bool
    home: str

    @classmethod
    def parse(cls, output: str, *, is_root: bool, home: str) -> HostFacts:
        """Read the output of :data:`FACTS_COMMAND`.

        Raises:
            RemoteError: the output does not name the host.
        """
        lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
        if not lines:
            raise RemoteError(f"the server did not print its host name: {output!r}")
        return cls(
            hostname=lines[0],
            fqdn=lines[1] if len(lines) > 1 else lines[0],
            is_root=is_root,
            home=home,
        )


@dataclass(frozen=True)
class ConnectReport:
    """The result of a successful login."""

    host_key: HostKeyInfo
    facts: HostFacts


@dataclass(frozen=True)
class OutputChunk:
    """Decoded text that a running command printed."""

    stream: Literal["stdout", "stderr"]
    text: str


@dataclass(frozen=True)
class RunReport:
    """The outcome of a step's command blocks."""

    exit_status: int | None
    """The status of the last block that ran; None when it was stopped."""

    failed_block: int | None = None
    """Index of the block that failed, or None when all succeeded."""

    stopped: bool = False
    """True when the attendee or the block's timeout stopped the commands."""

    @property
    def succeeded(self) -> bool:
        """True when every block exited with status 0."""
        return self.exit_status == 0 and self.failed_block is None and not self.stopped


class _OutputDecoder:
    """Turns a run's output bytes into text chunks, counting offsets into ``record``."""

    def __init__(
        self, on_output: Callable[[OutputChunk], None], record: RunRecord | None = None
    ) -> None:
        self.on_output = on_output
        self.record = record
        # Incremental decoders keep a character that is split between two reads whole.
        self.decoders = {
            "stdout": codecs.getincrementaldecoder("utf-8")("replace"),
            "stderr": codecs.getincrementaldecoder("utf-8")("replace"),
        }

    def stdout(self, data: bytes) -> None:
        if self.record is not None:
            self.record.stdout_offset += len(data)
        self._emit("stdout", data)

    def stderr(self, data: bytes) -> None:
        if self.record is not None:
            self.record.stderr_offset += len(data)
        self._emit("stderr", data)

    def _emit(self, stream: Literal["stdout", "stderr"], data: bytes) -> None:
        text = self.decoders[stream].decode(data)
        if text:
            self.on_output(OutputChunk(stream, text))


class Session(ProgressKeeping):
    """An attendee's connection to their VPS, the variables derived from it, and progress.

    Progress is saved on this computer and, in the background, in the progress file on
    the VPS (see :mod:`workshop_tui.core.shared_progress`), where the board reads it.
    """

    def __init__(
        self,
        login: Login,
        *,
        known_hosts: KnownHosts,
        progress_store: ProgressStore,
        overrides: Mapping[str, str] | None = None,
        connect_timeout: float = 10.0,
        team: str | None = None,
        new_key_check: NewKeyConfirmation | None = None,
    ) -> None:
        """Create a session. Nothing is sent until :meth:`connect`.

        Args:
            team: The team name that the progress file on the VPS records. Without it,
                the name already in the file is kept.
            new_key_check: Decides on the key of a host seen for the first time in
                place of the ``confirm_new_key`` that :meth:`connect` is given, as a
                roster's list of host key fingerprints does.
        """
        self.login = login
        self.known_hosts = known_hosts
        self.progress_store = progress_store
        self.overrides = dict(overrides or {})
        self.connect_timeout = connect_timeout
        self.team = team
        self.new_key_check = new_key_check
        self.progress: ServerProgress = progress_store.load(login.target)
        self.facts: HostFacts | None = None
        self._connection: Connection | None = None
        self._lock = threading.Lock()
        self._save_lock = threading.RLock()
        self._progress_notice: str | None = None
        self._shared_notice: str | None = None
        self._shared_file_read = False
        """True once a connect has read the progress file on the VPS."""
        self.shared_writer = SharedProgressWriter(login.target, self._upload_shared_progress)

    # Connection ----------------------------------------------------------------------

    @property
    def connection(self) -> Connection:
        """The open connection.

        Raises:
            ConnectionLost: the connection broke after :meth:`connect` opened it, as when
                the Wi-Fi dropped. Calling :meth:`connect` again opens a new one.
            RemoteError: :meth:`connect` has not succeeded yet, or :meth:`close` closed
                the connection.
        """
        connection = self._connection
        if connection is None:
            raise RemoteError(f"not connected to {self.login.target}; connect first")
        if not connection.is_open:
            raise ConnectionLost(
                f"The connection to {self.login.target} was lost. Check your Wi-Fi. The app "
                "reconnects and continues where it stopped."
            )
        return connection

    @property
    def link_open(self) -> bool:
        """Whether the connection is open, read from paramiko's state without sending anything.

        It turns False once TCP gives up on data that the server does not acknowledge,
        such as paramiko's keepalive messages or a write of the progress file.
        :mod:`workshop_tui.core.login` sets those limits.
        """
        connection = self._connection
        return connection is not None and connection.is_open

    def connect(self, confirm_new_key: NewKeyConfirmation | None = None) -> ConnectReport:
        """Log in, trusting the host key on first use, and learn the VPS's names.

        ``confirm_new_key`` is asked before logging in to a host seen for the first time;
        without it, the new key is trusted.

        Raises:
            HostKeyNotTrusted: ``confirm_new_key`` declined the new key.
            HostUnreachable, AuthenticationFailed, HostKeyChanged, RemoteTimeout: the
                login failed, and the message tells the attendee what to do.
        """
        connection = Connection(self.login, self.known_hosts, connect_timeout=self.connect_timeout)
        host_key = connection.open(self.new_key_check or confirm_new_key)
        # The progress file on the VPS is read in the same command as the host facts,
        # so that connecting costs no extra round trip.
        boundary = new_boundary()
        try:
            result = connection.exec(
                facts_and_progress_command(FACTS_COMMAND, boundary), timeout=self.connect_timeout
            )
            facts_text, shared_text = split_facts_output(
                result.stdout.decode("utf-8", "replace"), boundary
            )
            self.facts = HostFacts.parse(
                facts_text, is_root=connection.is_root, home=connection.home
            )
        except WorkshopError:
            connection.close()
            raise
        with self._lock:
            old, self._connection = self._connection, connection
        if old is not None:
            old.close()
        self._bind_progress_to(host_key.fingerprint)
        if not self._shared_file_read:
            self._merge_shared_progress(shared_text)
            self._shared_file_read = True
        self.shared_writer.resume()
        logger.info("connected to %s (%s)", self.login.target, self.facts.fqdn)
        return ConnectReport(host_key=host_key, facts=self.facts)

    def close(self) -> None:
        """Finish writing the progress file on the VPS, then close the connection.

        Waits at most ``CLOSE_FLUSH_SECONDS`` for that write. Commands already started
        keep running on the VPS.
        """
        self.shared_writer.close()
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _upload_shared_progress(self, data: bytes) -> None:
        connection = self._connection
        if connection is None or not connection.is_open:
            raise ConnectionLost(f"not connected to {self.login.target}")
        write_shared_progress(connection, data)

    # Values and progress -------------------------------------------------------------

    def values(self, lesson: Lesson | None = None) -> dict[str, str]:
        """Return the variable values for this attendee, for ``lesson`` if given.

        Command-line overrides win over lesson defaults, which win over values learned
        from the VPS.
        """
        facts = self.facts
        return lesson_values(
            self.login,
            facts.hostname if facts else None,
            facts.fqdn if facts else None,
            lesson,
            self.overrides,
        )

    # Running and checking --------------------------------------------------------------

    def run_step(
        self,
        lesson: Lesson,
        step: Step,
        *,
        on_output: Callable[[OutputChunk], None],
        cancel: threading.Event | None = None,
    ) -> RunReport:
        """Run the step's command blocks in order, or resume a run that a lost link cut.

        Output reaches ``on_output`` as it arrives. Setting ``cancel`` stops the
        commands on the VPS.

        Raises:
            ConnectionLost: the link dropped; the commands go on running on the VPS and a
                later call after :meth:`connect` resumes them where the output stopped.
        """
        values = self.values(lesson)
        progress = self.progress.lesson(lesson.id)
        cancel = cancel or threading.Event()
        record = progress.run.get(step.id)
        first = 0
        if record is not None and record.exit_status is None and record.block < len(step.commands):
            # A run that never reported its end may still be going on the VPS (the
            # link dropped, or the app was closed): follow it instead of starting the
            # same commands a second time.
            first = record.block
        else:
            record = None
        exit_status: int | None = None
        for index in range(first, len(step.commands)):
            block = step.commands[index]
            if record is None:
                handle = start_run(self.connection, block.render(values), as_root=block.as_root)
                record = RunRecord(run_id=handle.run_id, remote_dir=handle.remote_dir, block=index)
                progress.run[step.id] = record
                self.save_progress()
            exit_status = self._follow(record, block.timeout, on_output, cancel)
            record = None
            if exit_status is None or exit_status != 0:
                self.set_step_state(lesson, step, "ran")
                return RunReport(
                    exit_status=exit_status, failed_block=index, stopped=exit_status is None
                )
        self.set_step_state(lesson, step, "ran")
        return RunReport(exit_status=exit_status)

    def last_run(self, lesson: Lesson, step: Step) -> RunRecord | None:
        """Return the latest run of the step's commands, finished or not, or None."""
        return self.progress.lesson(lesson.id).run.get(step.id)

    def replay_output(
        self, lesson: Lesson, step: Step, *, on_output: Callable[[OutputChunk], None]
    ) -> RunRecord | None:
        """Send the output of the step's finished latest run again, read from the VPS.

        The output stays in the run's directory on the VPS, so it can be shown after the
        app restarted. A run that has not ended is left alone: ``run_step`` follows it.
        Returns the run, or None when there is nothing to replay.
        """
        record = self.last_run(lesson, step)
        if record is None or record.exit_status is None:
            return None
        decoder = _OutputDecoder(on_output)
        follow_run(
            self.connection,
            RunHandle(run_id=record.run_id, remote_dir=record.remote_dir),
            on_stdout=decoder.stdout,
            on_stderr=decoder.stderr,
        )
        return record

    def unfinished_run(self, lesson: Lesson, step: Step) -> bool:
        """Return whether a run of ``step`` started earlier has not reported its end."""
        record = self.progress.lesson(lesson.id).run.get(step.id)
        return record is not None and record.exit_status is None

    def _follow(
        self,
        record: RunRecord,
        timeout: int,
        on_output: Callable[[OutputChunk], None],
        cancel: threading.Event,
    ) -> int | None:
        """Stream a run until it ends; return its exit status, or None if it was stopped."""
        handle = RunHandle(run_id=record.run_id, remote_dir=record.remote_dir)
        decoder = _OutputDecoder(on_output, record)

        timer = threading.Timer(timeout, cancel.set)
        timer.daemon = True
        timer.start()
        try:
            outcome = follow_run(
                self.connection,
                handle,
                stdout_offset=record.stdout_offset,
                stderr_offset=record.stderr_offset,
                on_stdout=decoder.stdout,
                on_stderr=decoder.stderr,
                cancel=cancel,
            )
        except RunInterrupted as interrupted:
            # The offsets of the exception count what reached the callbacks, so a
            # resumed follow starts at the first byte the attendee has not seen.
            record.stdout_offset = interrupted.stdout_offset
            record.stderr_offset = interrupted.stderr_offset
            raise
        finally:
            timer.cancel()
            self.save_progress()
        if outcome.status.state != "finished":
            stop_run(self.connection, handle)
            # Record how the run ended, so the next Run starts the commands afresh
            # instead of following a run that is already over.
            stopped = run_status(self.connection, handle)
            record.stopped = True
            if stopped.state == "finished":
                record.exit_status = stopped.exit_status
            self.save_progress()
            return None
        record.exit_status = outcome.status.exit_status
        self.save_progress()
        return record.exit_status

    def check_step(
        self, lesson: Lesson, step: Step, *, allow_wait: bool = True
    ) -> list[CheckResult]:
        """Evaluate the step's checks and save whether they all passed.

        With ``allow_wait`` false, checks that may wait for an effect (such as mail
        delivery) report their first result at once.
        """
        results = evaluate_checks(
            self.connection, step.checks, self.values(lesson), allow_wait=allow_wait
        )
        self._record_check(lesson, step, passed=all(result.passed for result in results))
        return results

    def diagnose(self, lesson: Lesson, results: Sequence[CheckResult]) -> list[diagnosis.Finding]:
        """Look on the VPS for known faults behind failed ``results``, in one exec as root.

        Returns the findings, the most relevant first; none when nothing known matches.

        Raises:
            ConnectionLost: the link dropped.
            SudoFailed: the login user is not root and sudo refused.
        """
        context = diagnosis.DiagnosisContext.from_results(
            results, self.values(lesson), self.login.user
        )
        return diagnosis.diagnose(self.connection, context)
