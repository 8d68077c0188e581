"""The bridge: translation between Meta's and the helpdesk's words; no flask, no requests."""
