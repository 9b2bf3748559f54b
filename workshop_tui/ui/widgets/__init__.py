"""Widgets of the attendee UI."""
