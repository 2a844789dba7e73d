"""Training code for the tiny models kept in the registry."""
