"""Modal dialogs of the attendee UI, one per module."""
