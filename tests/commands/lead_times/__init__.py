"""Tests of commands/lead_times."""
