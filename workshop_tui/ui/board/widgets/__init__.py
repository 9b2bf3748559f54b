"""Widgets of the facilitator board."""
