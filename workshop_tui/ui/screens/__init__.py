"""Full screens of the attendee UI: connect, lesson list and step."""
