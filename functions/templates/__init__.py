"""The HTML pages' templates, style sheet and script: package data, shipped in the code asset with the
modules (functions.pages renders them)."""
