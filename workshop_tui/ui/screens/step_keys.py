"""The keys of the step screen, in the order that its footer shows them."""

from __future__ import annotations

from textual.binding import Binding, BindingType

QUIT_SHOWN_FROM_WIDTH = 90
"""Terminal width from which the footer shows Quit. With Quit, the footer is at most 88
columns wide (idle, on a narrow layout, with v, and with e in place of p). Tests check
footers at 80, 90, 100 and 160 columns."""

ASK_HELP_SHOWN_FROM_WIDTH = 100
"""Terminal width from which the footer shows "a Ask help". With it and Quit, the footer
is at most 99 columns wide (in the same case as above). In narrower terminals a still
works, and the messages about a missing hint or solution name it."""

STEP_BINDINGS: list[BindingType] = [
    Binding("r", "run", "Run", tooltip="Run this step's commands on your server.", id="step.run"),
    Binding("c", "check", "Check", tooltip="Check whether this step worked.", id="step.check"),
    Binding("n", "next", "Next", tooltip="Go to the next step.", id="step.next"),
    Binding("right", "next", "Next", show=False, priority=True, id="step.next-arrow"),
    # check_action leaves "p Prev" out of a full footer to make room for "e Details",
    # so p also has a hidden binding of its own that keeps working.
    Binding("p", "previous", "Prev", tooltip="Go to the previous step.", id="step.previous"),
    Binding("p", "previous_step", "Prev", show=False, id="step.previous-key"),
    Binding("left", "previous_step", "Prev", show=False, priority=True, id="step.previous-arrow"),
    Binding("h", "hint", "Hint", tooltip="Show the hint for this step.", id="step.hint"),
    Binding(
        "e",
        "details",
        "Details",
        tooltip="Show or hide what the server printed for each check.",
        id="step.details",
    ),
    Binding(
        "s",
        "solution",
        "Solution",
        tooltip="Show the solution, after asking.",
        id="step.solution",
    ),
    # Shown in the footer from ASK_HELP_SHOWN_FROM_WIDTH on. The hidden binding below
    # keeps a working in narrower terminals.
    Binding(
        "a",
        "ask_help",
        "Ask help",
        tooltip="Ask a facilitator to come over; press a again to lower your hand.",
        id="step.ask-help",
    ),
    Binding("a", "ask_help_key", "Ask help", show=False, id="step.ask-help-key"),
    Binding(
        "t",
        "app.open_terminal",
        "Terminal",
        tooltip="Open a shell on your server; type exit to come back.",
        id="step.terminal",
    ),
    # check_action enables only the binding of the hidden panel, so the footer
    # names the panel that v brings up.
    Binding(
        "v",
        "show_output",
        "Output",
        tooltip="Show the output of the commands.",
        id="step.show-output",
    ),
    Binding(
        "v",
        "show_checks",
        "Checks",
        tooltip="Show the checks and their hints.",
        id="step.show-checks",
    ),
    Binding(
        "x",
        "stop",
        "Stop",
        tooltip="Stop the running commands or reconnecting.",
        id="step.stop",
    ),
    Binding(
        "escape",
        "lessons",
        "Lessons",
        key_display="esc",
        tooltip="Back to the lesson list.",
        id="step.lessons",
    ),
    # Shows Quit in the footer from QUIT_SHOWN_FROM_WIDTH on; below it, the App's own
    # ctrl+q binding acts, and the lesson list (esc) shows Quit. Both bindings ask first
    # while commands run (WorkshopApp.request_quit).
    Binding(
        "ctrl+q",
        "quit",
        "Quit",
        priority=True,
        tooltip="Quit; your progress is saved.",
        id="step.quit",
    ),
]
