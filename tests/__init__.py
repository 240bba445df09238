"""The project's own tests (a package, so `tests.helpers` imports the same way everywhere)."""
