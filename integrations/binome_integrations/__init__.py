"""Bridges between Binôme and the outside: the HR CSV import and the programme report."""
