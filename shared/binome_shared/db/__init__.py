"""PostgreSQL: the migrations runner, schema and role provisioning, claims.

A regular package (not an implicit namespace) so that import-linter sees its modules.
"""
