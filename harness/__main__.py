"""`python -m harness` runs the command-line interface."""

from harness.cli import run

run()
