"""Every log and error text the operators read, in one place."""

EMBEDDED_STORE = (
    "REDIS_URL is not set: running on an embedded in-process store. State is lost when this process "
    "stops and only this process can use it. Set REDIS_URL for production and to run several processes."
)
STORE_MODE_UNKNOWN = (
    "REDIS_URL did not answer at start (%s): using it as a single Redis. If it names a Redis Cluster node, "
    "restart this process once the cluster answers."
)
NO_APP_SECRET = (
    "META_APP_SECRET is not set: every POST /webhooks/meta will be refused with 401 until it is, "
    "because an unsigned webhook cannot be trusted."
)
NO_VERIFY_TOKEN = "META_VERIFY_TOKEN is not set: Meta's webhook verification handshake will be refused."
NO_ADMIN_TOKEN = "ADMIN_TOKEN is not set: the admin API under /admin/api is disabled."
NO_HELPDESK_URL = "HELPDESK_BASE_URL is not set: nothing can be delivered to the helpdesk until it is."
UNROUTED_PAYLOAD = "payload for unknown phone_number_id %s kept in %s for an admin"
JOB_RETRY = "job %s (%s) failed on attempt %d, retrying in %.1fs: %s"
JOB_DEAD = "job %s (%s) moved to dead letters after attempt %d: %s"
JOB_CRASHED = "job %s (%s) raised an unexpected error"
