"""Screens of the facilitator board: the grid of all teams, and one team in detail."""
