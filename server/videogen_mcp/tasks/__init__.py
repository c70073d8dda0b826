"""Durable tasks: the SQLite store, change events, the one poller, downloads, and the service over them."""
