"""``python -m custody_watch`` runs the command line."""

from custody_watch.cli import main

if __name__ == "__main__":  # not when a worker process is spawned
    main()
