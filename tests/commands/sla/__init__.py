"""Tests of commands/sla."""
