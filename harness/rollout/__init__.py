"""Rollout across many repositories: enrollment verdicts, the `fleet` run and its reports."""
