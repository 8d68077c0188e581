"""Meta's side: webhook signature, payload schemas, events, the Graph client, error codes."""
