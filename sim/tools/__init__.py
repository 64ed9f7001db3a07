"""What users run: the clobsim CLI, reports (metrics, alerts, timelines), bench and parallel sweeps."""
