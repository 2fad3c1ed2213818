"""Tests of commands/paging."""
