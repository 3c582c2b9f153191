"""Follow-up check-ins: scheduling maths, delivery with leases, the scheduler, handlers."""
