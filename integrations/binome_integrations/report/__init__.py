"""The programme report: a model of the figures, a terminal summary and an HTML page."""
