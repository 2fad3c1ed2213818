"""Tests of commands/maintenance."""
