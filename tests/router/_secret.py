"""The fake API key the router tests use (a module, not conftest: conftest names clash across folders).

It looks like a real key so a leak would be obvious in any message or log line.
"""

SECRET = "sk-test-5EcReT-do-not-leak-0123456789"
