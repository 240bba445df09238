"""Workload memory: run a command in a limited cgroup, judge it, chart it."""
