"""The step screen: a step's prose, its command output and its checks, with the actions."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.css.query import NoMatches
from textual.events import Resize
from textual.widgets import Footer, Markdown, Static, Tab, Tabs

from workshop_tui.core.progress import StepState
from workshop_tui.ui.dialogs.confirm import ConfirmDialog
from workshop_tui.ui.dialogs.lesson_done import LessonDoneDialog
from workshop_tui.ui.dialogs.markdown_dialog import MarkdownDialog
from workshop_tui.ui.screens.step_keys import (
    ASK_HELP_SHOWN_FROM_WIDTH,
    QUIT_SHOWN_FROM_WIDTH,
    STEP_BINDINGS,
)
from workshop_tui.ui.screens.step_link import StepLinkScreen
from workshop_tui.ui.screens.step_text import (
    STOP_QUESTION,
    initial_status,
    nothing_to_do,
    step_markdown,
)
from workshop_tui.ui.widgets.checks_panel import ChecksPanel, fill_in
from workshop_tui.ui.widgets.output_log import PLACEHOLDER_STYLE, OutputLog
from workshop_tui.ui.widgets.step_header import LinkState, StepHeader
from workshop_tui.ui.widgets.step_runner import StepRunner


class PanelTabs(Tabs, can_focus=False):
    """Switches between output and checks when the terminal is too narrow for both."""


class StepScreen(StepLinkScreen):
    """Shows one step of a lesson and runs its commands and checks on the attendee's VPS."""

    CSS_PATH = "step.tcss"
    AUTO_FOCUS = "#prose"
    BINDINGS = STEP_BINDINGS

    def compose(self) -> ComposeResult:
        yield StepHeader()
        yield Static(id="status")
        with VerticalScroll(id="prose"):
            yield Markdown(id="step-markdown", open_links=False)
        yield PanelTabs(Tab("Output", id="output-tab"), Tab("Checks", id="checks-tab"))
        with Horizontal(id="panels", classes="-show-output"):
            yield OutputLog(self.output_buffer, id="output")
            yield ChecksPanel(id="checks")
        yield StepRunner(self.output_buffer)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#output", OutputLog).border_title = "Output"
        self.query_one("#checks", ChecksPanel).border_title = "Checks"
        self.watch(self.workshop, "link_state", self._show_link_state)
        self.show_step(self.index)
        if self.workshop.link_state == "reconnecting":
            # The lesson was opened while the app was reconnecting.
            self.link_lost()

    def on_resize(self, event: Resize) -> None:
        self.refresh_bindings()

    # Showing a step ---------------------------------------------------------------------

    def show_step(self, index: int) -> None:
        """Show step ``index`` with unchecked checks, and remember it.

        The output panel shows the step's output from its last run in this app session,
        if it ran. Otherwise the output of its last finished run, as in an earlier app
        session, is read again from the server. A reconnect that would resume a run or
        check is stopped, because that job belongs to the step that was on screen before.
        A reconnect with nothing to resume goes on.
        """
        if self.phase == "reconnecting" and self._resume_job is not None:
            self._stop_reconnecting()
        self.cancel_replay()
        self.workshop.clear_step_notifications()
        self.index = index
        step = self.step
        values = self.session.values(self.lesson)
        self.query_one(StepHeader).show_step(
            self.lesson.title, index + 1, len(self.lesson.steps), step.title
        )
        self.query_one("#step-markdown", Markdown).update(step_markdown(self.lesson, index, values))
        self.query_one("#prose", VerticalScroll).scroll_home(animate=False)
        output = self.query_one("#output", OutputLog)
        transcript = self.workshop.step_transcripts.get((self.lesson.id, step.id))
        if transcript is not None:
            output.show_transcript(transcript)
        else:
            output.restart()
            if step.commands:
                placeholder = "The output of this step's commands appears here."
            else:
                placeholder = "This step has no commands for the app to run."
            output.write_note(placeholder, PLACEHOLDER_STYLE)
            if step.commands and self.workshop.link_state == "connected":
                self.replay_last_run()
        checks = self.query_one("#checks", ChecksPanel)
        checks.show_checks(step.checks, values, "pending")
        checks.show_step_hint(None)
        self.results = []
        self.set_checks_label("Checks")
        self.show_panel("output" if step.commands else "checks")
        self.set_class(not step.commands and not step.checks, "-reading")
        self._show_initial_status()
        if self.phase == "reconnecting":
            # The new step's status comes back once the app is connected again.
            self._status_before_loss = self._status
            self.show_reconnecting()
        self._save_position()
        self.show_hand()
        self.refresh_bindings()

    def _show_initial_status(self) -> None:
        step = self.step
        text, kind = initial_status(
            step,
            self.session.progress.step_state(self.lesson.id, step.id),
            unfinished=bool(step.commands) and self.session.unfinished_run(self.lesson, step),
            last_run=self.session.last_run(self.lesson, step),
            after_done=self.after_done(),
        )
        self.set_status(text, kind)

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        event.stop()
        panels = self.query_one("#panels", Horizontal)
        show_checks = event.tab.id == "checks-tab"
        panels.set_class(show_checks, "-show-checks")
        panels.set_class(not show_checks, "-show-output")
        self.refresh_bindings()

    def _show_link_state(self, state: LinkState) -> None:
        self.query_one(StepHeader).show_link(self.session.login.target, state)

    def _save_position(self) -> None:
        try:
            self.session.set_position(self.lesson, self.step)
        except OSError as error:
            self.notify(f"Your place could not be saved: {error}", severity="warning")

    def _save_state(self, state: StepState) -> None:
        try:
            self.session.set_step_state(self.lesson, self.step, state)
        except OSError as error:
            self.notify(f"Your progress could not be saved: {error}", severity="warning")

    # Which actions are available ----------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        busy = self.phase in ("running", "checking")
        if action == "stop":
            return self.phase in ("running", "reconnecting")
        if action == "run":
            return None if self.phase != "idle" else True
        if action == "check":
            # Hidden while busy, so that Stop fits into an 80-column footer.
            return self.phase == "idle"
        if action == "previous" and self.has_class("-narrow") and self._details_offered():
            return False
        if action in ("next", "previous", "previous_step", "lessons"):
            return None if busy else True
        if action == "details":
            return self._details_offered()
        if action == "quit":
            return self.size.width >= QUIT_SHOWN_FROM_WIDTH
        if action == "ask_help":
            return self.size.width >= ASK_HELP_SHOWN_FROM_WIDTH
        if action in ("show_output", "show_checks"):
            # Wide terminals and reading steps show no tabs, so there is nothing to switch.
            if not self.has_class("-narrow") or self.has_class("-reading"):
                return False
            try:
                active = self.query_one(PanelTabs).active
            except NoMatches:  # Not composed yet, or being removed.
                return False
            return active != f"{action.removeprefix('show_')}-tab"
        return True

    def _details_offered(self) -> bool:
        return self.phase == "idle" and any(result.evidence for result in self.results)

    # Actions --------------------------------------------------------------------------------

    def action_run(self) -> None:
        if self.phase != "idle":
            return
        if not self.step.commands and not self.step.checks:
            self.notify(nothing_to_do(last_step=self.index + 1 == len(self.lesson.steps)))
            return
        if not self.step.commands:
            self.notify(
                "This step has no commands for the app to run. Do it in a terminal (t), "
                "then press c to check it."
            )
            return
        self._stop_requested = False
        if self.workshop.link_state != "connected":
            self._reconnect("run")
            return
        self._start_run(resume=False)

    def action_check(self) -> None:
        if self.phase != "idle":
            return
        if not self.step.checks and not self.step.commands:
            self.notify(nothing_to_do(last_step=self.index + 1 == len(self.lesson.steps)))
            return
        if not self.step.checks:
            self.notify("This step has no checks. Press n when you have read it.")
            return
        if self.workshop.link_state != "connected":
            self._reconnect("check")
            return
        self._start_checks()

    def action_next(self) -> None:
        step = self.step
        if not step.checks and self.session.progress.step_state(self.lesson.id, step.id) != (
            "passed"
        ):
            self._save_state("passed")
        if self.index + 1 < len(self.lesson.steps):
            self.show_step(self.index + 1)
        else:
            self._finish_lesson()

    def action_previous(self) -> None:
        if self.index == 0:
            self.notify("This is the first step of the lesson.")
            return
        self.show_step(self.index - 1)

    def action_previous_step(self) -> None:
        self.action_previous()

    def action_hint(self) -> None:
        hint = self.step.hint
        if hint is not None:
            self.query_one("#checks", ChecksPanel).show_step_hint(
                fill_in(hint, self.session.values(self.lesson)), scroll=True
            )
            self.show_panel("checks")
        elif any(not result.passed and result.check.hint for result in self.results):
            self.show_panel("checks")
            self.notify("The hints are under the failed checks.")
        else:
            self.notify("This step has no hint. Press a to ask a facilitator if you are stuck.")

    def action_details(self) -> None:
        self.query_one("#checks", ChecksPanel).toggle_evidence()
        self.show_panel("checks")

    def action_solution(self) -> None:
        solution = self.step.solution
        if solution is None:
            self.notify("This step has no written solution. Press a to ask a facilitator for help.")
            return
        text = fill_in(solution, self.session.values(self.lesson))
        title = f"Solution: {self.step.title}"

        def show(confirmed: bool | None) -> None:
            if confirmed:
                self.app.push_screen(MarkdownDialog(title, text))

        self.app.push_screen(
            ConfirmDialog(
                "Show the solution?",
                "You learn more by finding it yourself, and the hint (h) may be enough. "
                "Show the solution anyway?",
                confirm="Show solution",
                cancel="Not yet",
            ),
            show,
        )

    def action_ask_help(self) -> None:
        """Raise the attendee's hand for the board, or lower it when it is raised."""
        raise_hand = self.session.progress.hand_raised_at is None
        try:
            self.session.set_hand_raised(raise_hand)
        except OSError as error:
            self.notify(f"Your raised hand could not be saved: {error}", severity="warning")
            return
        self.show_hand()
        if not raise_hand:
            self.notify("Hand lowered: the board no longer shows that you asked for help.")
        elif self.workshop.link_state == "connected":
            self.notify(
                "✋ Help requested: a facilitator can see it on the board. "
                "Press a again to lower your hand."
            )
        else:
            self.notify(
                "✋ Help requested. The board shows it once the app is connected again; "
                "press a again to lower your hand.",
                severity="warning",
            )

    def action_ask_help_key(self) -> None:
        self.action_ask_help()

    def action_quit(self) -> None:
        self.workshop.request_quit()

    def action_show_output(self) -> None:
        self.show_panel("output")

    def action_show_checks(self) -> None:
        self.show_panel("checks")

    def action_stop(self) -> None:
        if self.phase == "running":

            def stop(confirmed: bool | None) -> None:
                if confirmed:
                    self.stop_run()

            self.app.push_screen(
                ConfirmDialog(
                    "Stop the commands?",
                    STOP_QUESTION,
                    confirm="Stop",
                    cancel="Keep running",
                    danger=True,
                ),
                stop,
            )
        elif self.phase == "reconnecting":
            self._stop_reconnecting()

    def action_lessons(self) -> None:
        if self.phase in ("running", "checking"):
            self.notify("Wait until this finishes, or press x to stop the commands.")
            return
        if self.phase == "reconnecting":
            # The app goes on reconnecting, so the lesson list is connected again too.
            self._leave_reconnect_to_app()
        self.dismiss(None)

    def _finish_lesson(self) -> None:
        step_ids = [step.id for step in self.lesson.steps]
        passed = self.session.progress.passed_count(self.lesson.id, step_ids)

        def leave(back_to_list: bool | None) -> None:
            if back_to_list:
                self.dismiss(None)

        self.app.push_screen(LessonDoneDialog(self.lesson.title, passed, len(step_ids)), leave)
