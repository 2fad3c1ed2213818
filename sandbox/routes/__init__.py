"""The sandbox's routes: one blueprint per Webex resource family, and the page's /_sandbox/ helpers."""
