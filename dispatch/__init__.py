"""Notice dispatch: routing, rendering, the durable outbox and delivery channels."""
