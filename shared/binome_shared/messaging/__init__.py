"""The messaging core: CloudEvents codec, outbox and relay, batch consumer, dead letters.

A regular package (not an implicit namespace) so that import-linter sees its modules.
"""
