"""Allow ``python -m feedtool``."""

from feedtool.cli import main

if __name__ == "__main__":
    main()
