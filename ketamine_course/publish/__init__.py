"""The course for reading rather than running: reader mode (Voila), static handouts and widget snapshots."""
