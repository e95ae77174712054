"""One module per `commwatch` command (see monitor.cli.COMMANDS)."""
