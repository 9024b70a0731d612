"""``python -m scrub837`` runs the command line."""

from scrub837.cli import main

main()
