"""One module per `commwatch` command (see monitor.cli.COMMAND_MODULES)."""
