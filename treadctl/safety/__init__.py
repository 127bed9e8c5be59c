"""Safety limits and the speed/incline governor (pure: standard library only).

Every number here names its source; the tables are in ``docs/safety.md``.
"""
