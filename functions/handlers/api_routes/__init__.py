"""The management API's routes, by resource (functions/handlers/api.py composes them)."""
