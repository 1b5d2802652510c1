"""`python -m tradewright ARGS`: the same as the `tradewright` command."""

from tradewright.cli.main import main

raise SystemExit(main())
