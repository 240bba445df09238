"""Test helpers that ship with the harness: fault-injecting and Attic-shaped HTTP servers."""
