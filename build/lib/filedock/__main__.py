"""`python -m filedock` is the filedock command."""

from filedock.cli import main

main()
