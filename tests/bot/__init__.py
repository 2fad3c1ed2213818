"""Tests of the runtime (bot/): the endpoint, the queues, dispatch, middleware, configuration."""
