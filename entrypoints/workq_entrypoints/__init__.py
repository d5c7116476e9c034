"""The ``workq`` console command and its subcommands."""
