"""The helpdesk's side (Chatwoot Application API): signature, schemas, events, client."""
