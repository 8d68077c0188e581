"""The work queue on Redis Streams: atomic dedupe+enqueue, ordered per chat, retried, dead-lettered."""
