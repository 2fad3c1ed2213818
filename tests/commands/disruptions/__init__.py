"""Tests of commands/disruptions."""
