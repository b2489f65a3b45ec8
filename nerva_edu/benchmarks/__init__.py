"""Benchmarks run by ``nerva-edu bench``: one module each, with ``add_arguments`` and ``run``."""
