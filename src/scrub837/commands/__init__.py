"""Subcommands of the ``scrub837`` command line (the edges: they read files and print)."""
