"""What people see: neutral cards, typed intents and their id codec (no platform imports)."""
