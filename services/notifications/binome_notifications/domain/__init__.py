"""Pure notification logic: what to send to whom, when, and how to treat delivery outcomes.

Import from the modules (``domain.model``, ``domain.planning``…): nothing is re-exported
here, so each name has one home.
"""
