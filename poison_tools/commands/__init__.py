"""One module per subcommand: each parses nothing itself beyond click options, asks
the core, and renders the answer."""
