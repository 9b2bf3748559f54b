"""workshop-tui: an interactive terminal tutorial for hands-on mail-server workshops."""

__version__ = "0.1.0"
