"""Unit tests of the sessions service's pure domain and of the SessionPlan contract."""
