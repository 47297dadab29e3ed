"""The regulator's own powers: regulatory holds on releases, sanctions on labs, and the
whistleblower channel. The API (`api.py`) and the console share these services."""
