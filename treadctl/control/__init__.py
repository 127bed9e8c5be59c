"""Control layer: the one path to the belt (governed treadmill) and the session runner."""
