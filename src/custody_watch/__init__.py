"""custody-watch: makes sure a named person acts when a child is held too long or in the
wrong place in police custody."""

__version__ = "0.1.0"
