"""Handler tests run against the moto world of tests/support/world.py."""

from tests.support.world import world  # noqa: F401 - a fixture, shared by every handler test
