"""Probes: how the harness reaches real things (Nix, HTTP caches, Bazel, cgroups)."""
