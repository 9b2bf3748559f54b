"""The core library: lessons, remote execution, checks and progress.

Nothing under this package imports Textual, so the board, the CLI and the tests can use
it without a terminal UI.
"""
