import sys

try:
    from .cli import main
except KeyboardInterrupt:            # Ctrl-C while Python is still importing the CLI
    print("Interrupted — outputs from before this run are intact", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
