"""The BLE adapter: reaches FTMS treadmills through bleak (BlueZ, or a Bumble host).

Public entry points (import them from their modules; this package imports nothing, so that
``treadctl --help`` stays fast):

- :class:`treadctl.ble.link.TreadmillLink` with :class:`treadctl.ble.options.LinkOptions`:
  one connection, implementing ``treadctl.control.port.TreadmillPort``.
- :class:`treadctl.ble.supervisor.ReconnectSupervisor`: keeps a link up; never re-applies.
- :func:`treadctl.ble.backend.select`: bleak backend classes for ``bluez`` or ``bumble``.
- :func:`treadctl.ble.discovery.scan` / :func:`~treadctl.ble.discovery.find_treadmill`.
- :mod:`treadctl.ble.errors`: the typed errors.

See docs/ble.md.
"""
