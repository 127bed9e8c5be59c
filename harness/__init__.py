"""Real processes and peers for the tests and the benchmarks: the treadsim simulator (in process
or as a child process), a Bluetooth central, the daemon, a heart-rate strap twin, Mosquitto, and
recorded-session factories.

Shared by ``tests/`` and ``bench/`` (which never imports ``tests``); not part of the installed
package. Import as ``from harness.<module> import ...``. The pytest fixtures here are imported
into a ``conftest.py`` to use them.
"""
