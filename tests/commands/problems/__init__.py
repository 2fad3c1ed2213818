"""Tests of commands/problems."""
