"""treadctl: safe backward-walking treadmill control over Bluetooth FTMS."""

__version__ = "0.1.0"
