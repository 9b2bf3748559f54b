"""The real test sshd of the remote-execution tests, for gathering evidence over SSH."""

from tests.core.conftest import connect, known_hosts, sshd

__all__ = ["connect", "known_hosts", "sshd"]
