"""Where custody records come from. Each kind is one module behind ``base.Source``."""
