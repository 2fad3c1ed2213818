"""Tests of the business calendars (bot/calendar.py) and the `run_bot.py sla` command line."""
