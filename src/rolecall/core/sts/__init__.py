"""Assuming roles: the planner and assumer, errors as sentences, the MFA ledger, the session
cache and the cache-hit memo.

Import the submodules directly; this package imports nothing (the cache-hit fast path loads
only `hit_memo` and what it names).
"""
