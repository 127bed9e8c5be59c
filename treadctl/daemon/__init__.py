"""The daemon: the only composition root and the only owner of long-lived tasks.

It wires configuration (:mod:`treadctl.config`), logging (:mod:`treadctl.log`), the BLE links,
the governed treadmills, the session runners and the MQTT bridges into one ``asyncio.TaskGroup``,
and talks to systemd through :mod:`treadctl.daemon.notify`.
"""
