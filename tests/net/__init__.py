"""Network test helpers: a real loopback HTTP server with scripted faults (see faultserver.py)."""
