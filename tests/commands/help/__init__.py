"""Tests of commands/help."""
