"""treadsim: an FTMS treadmill simulator on a real Bumble GATT server."""
