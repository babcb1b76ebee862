"""`python -m squrl_cli` runs the `squrl` command."""

from squrl_cli.cli import main

main()
