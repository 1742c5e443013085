"""What every service runs on: settings, composition, probes, observability, the CLI.

A regular package (not an implicit namespace) so that import-linter sees its modules.
"""
