"""Real servers the tests start on loopback from the system's own packages."""
