"""Allow `python -m musicd`."""

from musicd.cli import main

main()
