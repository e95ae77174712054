"""`python -m monitor` is the `commwatch` command."""

from monitor.cli import main

raise SystemExit(main())
