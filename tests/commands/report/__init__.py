"""Tests of commands/report."""
