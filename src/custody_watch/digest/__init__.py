"""The daily digest: window, figures, charts, rendering and the once-a-day send."""
