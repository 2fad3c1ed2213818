"""Tests of commands/admin."""
