"""The tests: one package per product package, and `tests.support` for what they share.

Test modules import shared helpers as `tests.support.<module>`; pytest puts the repository
root on `sys.path` (`pythonpath` in pyproject.toml), so nothing here changes `sys.path`.
"""
