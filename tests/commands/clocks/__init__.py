"""Tests of commands/clocks."""
