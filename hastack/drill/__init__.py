"""`hastack drill`: chaos drills on the cloud's own engine, timed by the cloud's own events."""
