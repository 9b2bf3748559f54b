"""The panel that lists a step's checks with ✓, ✖, · or a spinner, and the step's hint."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from textual import work
from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Collapsible, Markdown, Static

from workshop_tui.core.checks import Check, CheckResult
from workshop_tui.core.variables import MissingVariable, render_text
from workshop_tui.ui.widgets.spinner import Spinner

CheckState = Literal["pending", "running", "passed", "failed"]

SYMBOLS: Mapping[CheckState, str] = {"pending": "·", "running": "…", "passed": "✓", "failed": "✖"}

EVIDENCE_TITLE = "What the server printed (e)"
"""Title of the section with a check's evidence; the step screen's e key opens it."""


def fill_in(text: str, values: Mapping[str, str]) -> str:
    """Replace placeholders in lesson text, leaving the text as written if a value is missing."""
    try:
        return render_text(text, values)
    except MissingVariable:
        return text


class CheckRow(Vertical):
    """One check: its symbol and title, and for a result its reason, hint and evidence."""

    def __init__(
        self,
        check: Check,
        values: Mapping[str, str],
        state: CheckState,
        result: CheckResult | None = None,
    ) -> None:
        super().__init__(classes=f"check-row -{state}")
        self.check = check
        self.values = values
        self.state = state
        self.result = result

    def compose(self) -> ComposeResult:
        with Horizontal(classes="check-line"):
            if self.state == "running":
                yield Spinner(classes="symbol")
            else:
                yield Static(SYMBOLS[self.state], classes="symbol")
            yield Static(fill_in(self.check.title, self.values), classes="title", markup=False)
        result = self.result
        if result is None:
            return
        yield Static(result.reason, classes="reason", markup=False)
        if not result.passed and self.check.hint:
            hint = fill_in(self.check.hint, self.values)
            yield Markdown(f"**Hint:** {hint}", classes="check-hint", open_links=False)
        if result.evidence:
            with Collapsible(title=EVIDENCE_TITLE, collapsed=True):
                yield Static(result.evidence, classes="evidence", markup=False)


class ChecksPanel(VerticalScroll):
    """The checks of the step on screen, then the step-level hint when it is revealed."""

    DEFAULT_CSS = """
    ChecksPanel .check-row { height: auto; margin-bottom: 1; }
    ChecksPanel .check-line { height: auto; }
    ChecksPanel .symbol { width: 2; text-style: bold; }
    ChecksPanel .-passed .symbol { color: $success; }
    ChecksPanel .-failed .symbol { color: $error; }
    ChecksPanel .-pending .symbol { color: $text-muted; }
    ChecksPanel .title { width: 1fr; }
    ChecksPanel .reason { padding-left: 2; }
    ChecksPanel .-failed .reason { color: $error; }
    ChecksPanel .-passed .reason { color: $text-muted; }
    ChecksPanel .check-hint { padding-left: 2; margin: 0; }
    ChecksPanel .check-hint MarkdownParagraph { margin: 0; }
    ChecksPanel Collapsible { padding-left: 1; border: none; background: transparent; }
    ChecksPanel .evidence { color: $text-muted; }
    ChecksPanel #check-rows { height: auto; }
    ChecksPanel #no-checks { color: $text-muted; }
    ChecksPanel #step-hint { display: none; border-top: solid $warning; padding: 0 1; }
    ChecksPanel #findings { display: none; border-top: solid $error; padding: 0 1; }
    ChecksPanel #findings MarkdownParagraph { margin: 0 0 1 0; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="no-checks")
        yield Vertical(id="check-rows")
        yield Markdown(id="findings", open_links=False)
        yield Markdown(id="step-hint", open_links=False)

    def show_checks(
        self, checks: Sequence[Check], values: Mapping[str, str], state: CheckState
    ) -> None:
        """List ``checks`` without results, all in ``state`` (pending or running)."""
        self._replace_rows([CheckRow(check, values, state) for check in checks])
        self.query_one("#no-checks", Static).update(
            ""
            if checks
            else "This step has no checks. Press n when you have read it and done what it says."
        )
        self.query_one("#no-checks", Static).display = not checks

    def show_results(self, results: Sequence[CheckResult], values: Mapping[str, str]) -> None:
        """Replace the rows with the outcome of each check."""
        self._replace_rows(
            [
                CheckRow(result.check, values, "passed" if result.passed else "failed", result)
                for result in results
            ]
        )

    def _replace_rows(self, rows: list[CheckRow]) -> None:
        container = self.query_one("#check-rows", Vertical)
        container.remove_children()
        container.mount_all(rows)
        self.show_findings("")

    def show_findings(self, markdown: str) -> None:
        """Show what the diagnosis found under the checks, or hide it when ``markdown`` is ""."""
        findings = self.query_one("#findings", Markdown)
        findings.display = bool(markdown)
        findings.update(markdown)

    def show_step_hint(self, markdown: str | None, *, scroll: bool = False) -> None:
        """Reveal the step's ``### Hint`` section, or hide it when ``markdown`` is None.

        With ``scroll``, the panel scrolls until the hint's first line is at its top. Without
        it, the panel stays where it is, so the failed checks above the hint remain in view.
        """
        hint = self.query_one("#step-hint", Markdown)
        hint.display = markdown is not None
        if markdown is not None:
            updated = hint.update(f"**Hint for this step**\n\n{markdown}")
            if scroll:
                self._scroll_to_hint(updated)

    @work(exclusive=True, group="scroll-to-hint")
    async def _scroll_to_hint(self, updated: AwaitComplete) -> None:
        # Markdown mounts its blocks after update() returns, and until then the hint is
        # too short: scrolling to it at once left most of a long hint below the panel.
        await updated
        hint = self.query_one("#step-hint", Markdown)
        self.call_after_refresh(self.scroll_to_widget, hint, animate=False, top=True)

    def toggle_evidence(self) -> None:
        """Open every "What the server printed" section, or close them all if all are open.

        The panel then scrolls to the first one.
        """
        sections = list(self.query(Collapsible))
        if not sections:
            return
        expand = any(section.collapsed for section in sections)
        for section in sections:
            section.collapsed = not expand
        if expand:
            self.call_after_refresh(self.scroll_to_widget, sections[0], animate=False, top=True)

    @property
    def step_hint_shown(self) -> bool:
        """True while the step's hint is on screen."""
        return bool(self.query_one("#step-hint", Markdown).display)


def summarise(results: Sequence[CheckResult]) -> Content:
    """Return ``2/3 ✓``-style text for the tab that leads to this panel."""
    passed = sum(result.passed for result in results)
    style = "$success" if passed == len(results) else "$error"
    return Content.assemble("Checks ", (f"{passed}/{len(results)}", style))
