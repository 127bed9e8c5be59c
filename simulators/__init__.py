"""Software peers for testing treadctl without hardware."""
