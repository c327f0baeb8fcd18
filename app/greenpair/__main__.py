"""Allow ``python -m greenpair``."""

from greenpair.cli import main

if __name__ == "__main__":
    main()
