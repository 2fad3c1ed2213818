"""The tables, one module per concern: runtime (inbox, outbox, timers, …), directory (orgs,
spaces, people, roles), tickets, operations (paging, maintenance, disruptions, problems).

`metadata` is the whole schema: every module is loaded here so that it holds each table, as the
migrations and the test database need, and so that a foreign key to a table of another module
always resolves.
"""

from storage.models import directory, operations, runtime, tickets  # noqa: F401  (loads every table)
from storage.models.base import Base

metadata = Base.metadata
