"""CLI commands: each module here defines `register(subparsers)`; `projections.cli` finds them all.

A command module adds its own subparser and sets `handler=` to a function `(args) -> int` (0 ok, 1 problems
found, 2 bad usage). Keep imports of heavy libraries inside handlers so `projections --help` stays fast.
"""
