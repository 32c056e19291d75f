"""Production topology files, and deploy/local.py which runs them on loopback."""
