"""`python -m qa.cli`: the `qa` command."""

from qa.cli.main import main

main()
