"""What is watched: metric names, alert rules, thresholds and the HA dashboard."""
