"""The core's contract with adapters: replies with an outcome, and the event dispatcher."""
