"""Tests of the business calendars (rules/calendar.py) and the `run_bot.py sla` command line."""
