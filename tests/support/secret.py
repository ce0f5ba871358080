"""The fake API key the tests give the cloud backends.

It looks like a real key so a leak would be obvious in any message or log line.
"""

SECRET = "sk-test-5EcReT-do-not-leak-0123456789"
