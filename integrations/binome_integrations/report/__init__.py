"""The programme report: a model of the figures, a terminal summary and an HTML page.

Its figures come only from what the services publish: :mod:`.events` collects a
programme's envelopes from Kafka, :mod:`.history` folds them, :mod:`.build` turns the
history into the :class:`~.model.ProgrammeReport` that :mod:`.terminal` and :mod:`.html`
render.
"""
