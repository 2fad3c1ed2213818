"""Tests of storage/: migrations, sessions, the directory, the connection pool."""
