"""Tests of commands/watchers."""
