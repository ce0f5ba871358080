"""The router: picks a local or cloud model for each message, and talks to it."""
