"""Documents generated from the code: JSON Schemas, AsyncAPI documents, the event catalogue."""
