"""Tests of the operator's rules (rules/): business calendars, SLA profiles and arithmetic, the sla command line."""
