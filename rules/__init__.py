"""The operator's rules: business calendars, SLA profiles and arithmetic, the desk's contacts and
matrix. Loaded from TOML and pure: nothing here knows the runtime, the database or the commands."""
