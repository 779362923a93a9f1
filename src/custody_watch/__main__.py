"""``python -m custody_watch`` runs the command line."""

from custody_watch.cli import main

main()
