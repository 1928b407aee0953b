"""Service-level limits: how long each stage of a job may take, and the arithmetic of deadlines."""
