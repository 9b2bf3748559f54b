"""Evaluate a step's checks on the VPS with as few round trips as possible."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from workshop_tui.core.checks.base import Check, CheckResult
from workshop_tui.core.checks.protocol import ProtocolCheck
from workshop_tui.core.checks.shell import ShellCheck
from workshop_tui.core.errors import WorkshopError
from workshop_tui.core.probes import Probe, ProbeOutput, run_probes
from workshop_tui.core.remote import Connection
from workshop_tui.core.variables import MissingVariable

RETRY_INTERVAL = 1.0
"""Seconds between two tries of checks that may wait."""


def evaluate_checks(
    connection: Connection,
    checks: Sequence[Check],
    values: Mapping[str, str],
    *,
    allow_wait: bool = True,
) -> list[CheckResult]:
    """Return one result per check, in the order of ``checks``.

    All shell checks go to the VPS in one exec. Each protocol check opens its own
    tunnel, and the tunnels run at the same time as that exec, so the wait is about
    the slowest single check. Failing checks with a ``wait`` are tried again every
    second until they pass or their wait is over, unless ``allow_wait`` is false.

    Raises:
        ConnectionLost: the link dropped; no result can be trusted.
        WorkshopError: a variable that a check needs has no value.
    """
    results, _ = evaluate_checks_with_probes(connection, checks, values, (), allow_wait=allow_wait)
    return results


def evaluate_checks_with_probes(
    connection: Connection,
    checks: Sequence[Check],
    values: Mapping[str, str],
    extra: Sequence[Probe],
    *,
    allow_wait: bool = False,
) -> tuple[list[CheckResult], list[ProbeOutput]]:
    """Evaluate ``checks`` as :func:`evaluate_checks` does, and run ``extra`` probes too.

    The extra probes go into the first exec together with the shell checks, before
    them, so reading something beside the checks costs no extra round trip. They run
    once, also when checks are tried again. With extra probes and no shell checks
    there is still exactly one exec; with neither there is none.

    Returns:
        One result per check in the order of ``checks``, and one output per extra
        probe in the order of ``extra``.

    Raises:
        ConnectionLost: the link dropped; no result can be trusted.
        SudoFailed: a probe needs root and sudo refused.
        WorkshopError: a variable that a check needs has no value.
    """
    started = time.monotonic()
    pending = dict(enumerate(checks))
    results: dict[int, CheckResult] = {}
    once, extra_outputs = _evaluate_once(connection, pending, values, extra)
    while True:
        results.update(once)
        elapsed = time.monotonic() - started
        pending = {
            index: check
            for index, check in pending.items()
            if allow_wait and not results[index].passed and check.wait > elapsed
        }
        if not pending:
            return [results[index] for index in range(len(checks))], extra_outputs
        time.sleep(RETRY_INTERVAL)
        once, _ = _evaluate_once(connection, pending, values, ())


def _evaluate_once(
    connection: Connection,
    checks: Mapping[int, Check],
    values: Mapping[str, str],
    extra: Sequence[Probe],
) -> tuple[dict[int, CheckResult], list[ProbeOutput]]:
    shell = [(index, check) for index, check in checks.items() if isinstance(check, ShellCheck)]
    protocol = [
        (index, check) for index, check in checks.items() if isinstance(check, ProtocolCheck)
    ]
    results: dict[int, CheckResult] = {}
    extra_outputs: list[ProbeOutput] = []
    try:
        probes = [check.probe(values) for _, check in shell]
        with ThreadPoolExecutor(max_workers=max(1, len(protocol))) as pool:
            tunnels: list[tuple[int, Future[CheckResult]]] = [
                (index, pool.submit(check.run, connection, values)) for index, check in protocol
            ]
            if probes or extra:
                outputs = run_probes(connection, [*extra, *probes])
                extra_outputs = outputs[: len(extra)]
                for (index, check), output in zip(shell, outputs[len(extra) :], strict=True):
                    results[index] = check.judge(output, values)
            for index, future in tunnels:
                results[index] = future.result()
    except MissingVariable as missing:
        raise WorkshopError(
            f"A check needs the variable {{{{ {missing.name} }}}}, which has no value; "
            f"start the app with --var {missing.name}=VALUE or ask a facilitator."
        ) from None
    return results, extra_outputs
