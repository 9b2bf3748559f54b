"""The practice lab: Debian 12 hosts with real systemd, OpenSSH and apt on this Linux machine.

``Lab(name).up(count)`` builds (once) and caches a Debian 12 image with a
partial package mirror, then boots overlay clones of it with systemd-nspawn on
an isolated bridge with its own DNS. Hosts have no route out of the lab; the
attendee's unchanged ``apt install postfix`` is served by the lab mirror.
Needs root on Linux; see ``requirements`` for the commands it runs.
"""

from workshop_tui.core.errors import LabError
from workshop_tui.lab.lab import HostStatus, Lab, LabHost, LabStatus

__all__ = ["HostStatus", "Lab", "LabError", "LabHost", "LabStatus"]
