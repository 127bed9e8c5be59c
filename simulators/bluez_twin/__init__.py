"""bluez_twin: BlueZ's D-Bus API (``org.bluez``) on a private bus, backed by a Bumble host.

See docs/bluez-twin.md.
"""
