"""Documents rendered from the code: JSON Schemas of the messages, AsyncAPI documents.

Production code: a service serves its own AsyncAPI document. The command that writes every
generated document into docs/ (``binome-docs``) reads all the services, so it lives in the
development package, ``binome_devstack.generators``.
"""
