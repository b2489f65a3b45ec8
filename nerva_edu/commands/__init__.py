"""Subcommands of ``nerva-edu``: one module each, with ``add_parser(commands)``."""
