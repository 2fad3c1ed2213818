"""Tests of commands/tickets."""
