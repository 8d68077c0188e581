"""Every Redis key the adapter uses, named in one place.

`chat` is "<phone_number_id>:<customer id>": the unit of ordering and of the 24-hour window.

Keys carry Redis Cluster hash tags (the part in braces picks the slot), so that every atomic step (a
script, a MULTI) touches one slot and runs on a cluster as on a single Redis:
- `{p<n>}`, a queue partition: its stream, lease, fence, schedule, parked chats, dead letters and the
  dedupe marks of the items enqueued into it;
- `{<phone_number_id>:<customer>}`, a chat: its window, conversation, consent and message mappings;
- `{<phone_number_id>}`, a number: its send buckets (one script takes from the number's and a pair's);
- `{<waba_id>}`, a WhatsApp Business Account: its templates.
Keys used alone carry none.
"""

from __future__ import annotations

PREFIX = "wa:"

# --- queue ---
WORKERS = PREFIX + "workers"  # zset consumer -> last heartbeat
LEGACY_DELAYED = PREFIX + "delayed"  # before per-partition schedules: read once at start (adopt_single_schedule)
LEGACY_DEAD_LETTERS = PREFIX + "dead"  # before per-partition dead letters: moved once at start (adopt_dead_letters)
UNROUTED = PREFIX + "unrouted"  # list of payloads for numbers we don't know
CONSUMER_GROUP = "workers"


def partition_tag(partition: int) -> str:
    return f"{{p{partition}}}"


def chat_tag(phone_number_id: str, customer: str) -> str:
    return f"{{{phone_number_id}:{customer}}}"


def stream(partition: int) -> str:
    return f"{PREFIX}jobs:{partition_tag(partition)}"


def partition_of_stream(stream_key: str) -> int:
    """The partition a stream(partition) key names."""
    return int(stream_key.rsplit("{p", 1)[1].rstrip("}"))


def lease(partition: int) -> str:
    """The partition's lease: "<consumer>:<fencing token>" while a consumer holds it."""
    return f"{PREFIX}lease:{partition_tag(partition)}"


def fence(partition: int) -> str:
    """Counter of the partition's lease acquisitions: each new holder's fencing token."""
    return f"{PREFIX}fence:{partition_tag(partition)}"


def delayed(partition: int) -> str:
    """zset chat -> when its parked jobs are due again, for the chats of one partition."""
    return f"{PREFIX}delayed:{partition_tag(partition)}"


def parked(partition: int, chat: str) -> str:
    """Jobs of a chat waiting behind one that failed and will be retried (keeps the chat in order)."""
    return f"{PREFIX}parked:{partition_tag(partition)}:{chat}"


def dead_letters(partition: int) -> str:
    """List of a partition's dead jobs (newest first): buried in the step that acks them."""
    return f"{PREFIX}dead:{partition_tag(partition)}"


def dedupe_id(source: str, item_id: str) -> str:
    """What identifies an item for its dedupe mark; the queue keeps the mark in the item's partition."""
    return f"{source}:{item_id}"


def dedupe(partition: int, item: str) -> str:
    """Set for DEDUPE_TTL_SECONDS once `item` (a dedupe_id) was enqueued into `partition`."""
    return f"{PREFIX}dedupe:{partition_tag(partition)}:{item}"


# --- channels ---
CHANNELS = PREFIX + "channels"  # set of phone_number_ids


def channel(phone_number_id: str) -> str:
    return f"{PREFIX}channel:{phone_number_id}"


# --- conversations and messages ---
def window(phone_number_id: str, customer: str) -> str:
    return f"{PREFIX}window:{chat_tag(phone_number_id, customer)}"


def last_customer_wamid(phone_number_id: str, customer: str) -> str:
    """The wamid of the customer's latest message: what the typing indicator is shown on."""
    return f"{PREFIX}last-wamid:{chat_tag(phone_number_id, customer)}"


def typing_shown(phone_number_id: str, conversation_id: int) -> str:
    """Set for a few seconds after the typing indicator was shown in a conversation (one call per burst)."""
    return f"{PREFIX}typing:{phone_number_id}:{conversation_id}"


def conversation(phone_number_id: str, customer: str) -> str:
    """The helpdesk contact and open conversation of a customer on a number."""
    return f"{PREFIX}conv:{chat_tag(phone_number_id, customer)}"


def wamid(phone_number_id: str, customer: str, wamid_value: str) -> str:
    """wamid -> helpdesk conversation / message (both directions)."""
    return f"{PREFIX}wamid:{chat_tag(phone_number_id, customer)}:{wamid_value}"


def helpdesk_message(phone_number_id: str, customer: str, message_id: int | str) -> str:
    """Helpdesk message -> its WhatsApp parts and their statuses."""
    return f"{PREFIX}hdmsg:{chat_tag(phone_number_id, customer)}:{message_id}"


def sent_part(phone_number_id: str, customer: str, message_id: int | str, part: int) -> str:
    """Idempotency key of one part of an outbound message, written before the Graph call."""
    return f"{PREFIX}sent:{chat_tag(phone_number_id, customer)}:{message_id}:{part}"


# --- templates ---
# One WABA's message templates, as Meta returns them. The hash field is "<name>:<language>" with the
# language lower-cased and "-" read as "_" (webhooks print en-US, the API en_US), so lookups need no scan.
def templates(waba_id: str) -> str:
    """Hash "<name>:<language>" -> the template as JSON."""
    return f"{PREFIX}tpl:{{{waba_id}}}"


def template_field(name: str, language: str) -> str:
    """The field of one template in templates(waba_id)."""
    return f"{name}:{language.strip().lower().replace('-', '_')}"


def template_ids(waba_id: str) -> str:
    """Hash template id -> its field in templates(waba_id): webhooks name templates by id."""
    return f"{PREFIX}tpl-ids:{{{waba_id}}}"


def templates_synced_at(waba_id: str) -> str:
    """Unix time of the last full sync of a WABA's templates."""
    return f"{PREFIX}tpl-synced:{{{waba_id}}}"


def sending(customer: str, part_key: str) -> str:
    """Set just before a part is handed to Graph; while it stands without a sent wamid, the outcome is unknown.
    `part_key` is "<phone_number_id>:<message id>:<part>"."""
    return f"{PREFIX}sending:{chat_tag(part_key.split(':', 1)[0], customer)}:{part_key}"


def callback(customer: str, part_key: str) -> str:
    """wamid Meta reported for a part, learnt from a status webhook's biz_opaque_callback_data."""
    return f"{PREFIX}cb:{chat_tag(part_key.split(':', 1)[0], customer)}:{part_key}"


def posting(phone_number_id: str, customer: str, wamid_value: str) -> str:
    """Set just before an inbound message is posted to the helpdesk (value: the conversation id)."""
    return f"{PREFIX}posting:{chat_tag(phone_number_id, customer)}:{wamid_value}"


def rate(phone_number_id: str, customer: str | None = None) -> str:
    """Token bucket of outbound sends: the number's, or a customer's on that number (same slot)."""
    return f"{PREFIX}rate:{{{phone_number_id}}}" + (f":{customer}" if customer is not None else "")


def failed_by_us(phone_number_id: str, message_id: int | str) -> str:
    """We marked this helpdesk message failed: the helpdesk's Retry button (a message_updated without
    its external_error) then means "send it again"."""
    return f"{PREFIX}failed:{phone_number_id}:{message_id}"


def retry_press(phone_number_id: str, message_id: int | str) -> str:
    """A Retry of this message was acted on moments ago: the helpdesk's other webhooks of that press are not a
    second press."""
    return f"{PREFIX}retry-press:{phone_number_id}:{message_id}"


def retry_of_unseen(phone_number_id: str, message_id: int | str) -> str:
    """A Retry of a message the adapter never saw (the helpdesk failed to deliver its webhook) was taken."""
    return f"{PREFIX}retry-unseen:{phone_number_id}:{message_id}"


def delivery(delivery_id: str) -> str:
    """A helpdesk webhook delivery id already seen (replay protection)."""
    return f"{PREFIX}delivery:{delivery_id}"


def auth_failures(client: str) -> str:
    return f"{PREFIX}authfail:{client}"


# --- window and consent ---
def optout(phone_number_id: str, customer: str) -> str:
    """Present while the customer has opted out of marketing messages (no expiry: consent is durable)."""
    return f"{PREFIX}optout:{chat_tag(phone_number_id, customer)}"


AWAITING_ANSWER = PREFIX + "awaiting"  # zset chat -> when its window closes, while it waits for an answer


def window_attributes_written(phone_number_id: str, customer: str) -> str:
    """Throttle: the window was written to the helpdesk's custom attributes recently."""
    return f"{PREFIX}winattr:{chat_tag(phone_number_id, customer)}"


# --- what messages cost (adapter/monitoring/costs.py) ---
# Every key of one number carries the hash tag {<phone_number_id>}: one ledger script touches only keys of
# one number, and on Redis Cluster they must share a slot.
COST_TTL_SECONDS = 35 * 24 * 3600  # past Meta's 30 days of statuses, and the console's 30-day figure


def cost_counted(phone_number_id: str, wamid_value: str) -> str:
    """Set once a message's pricing was counted: Meta sends pricing with `sent` and again with a later
    status, and redelivers webhooks; a message is counted once."""
    return f"{PREFIX}cost:{{{phone_number_id}}}:counted:{wamid_value}"


def cost_pricing(phone_number_id: str, wamid_value: str) -> str:
    """Hash of what one message costs: category, type, billable (1/0), pricing_model."""
    return f"{PREFIX}cost:{{{phone_number_id}}}:pricing:{wamid_value}"


def cost_day(phone_number_id: str, day: str) -> str:
    """Hash of a number's messages counted on one UTC day (`day` as yyyymmdd): billable:<category> and
    free:<type> -> count."""
    return f"{PREFIX}cost:{{{phone_number_id}}}:day:{day}"


def cost_hour(phone_number_id: str, hour: int) -> str:
    """As cost_day, for one hour (`hour` = Unix time // 3600): the last 24 hours to the hour."""
    return f"{PREFIX}cost:{{{phone_number_id}}}:hour:{hour}"


def cost_conversation(phone_number_id: str, conversation_id: int) -> str:
    """Hash of one helpdesk conversation's counted messages, fields as cost_day."""
    return f"{PREFIX}cost:{{{phone_number_id}}}:conv:{conversation_id}"


# --- observability ---
def metric(name: str) -> str:
    return f"{PREFIX}metrics:{name}"


def recent_events(source: str) -> str:
    return f"{PREFIX}recent:{source}"


MAPPING_TTL_SECONDS = 35 * 24 * 3600  # Meta delivers statuses for up to 30 days


# --- admin console (adapter/console) ---
# Installation into the helpdesk, onboarding in progress, each number's health and per-hour counters,
# login throttling and the webhook payloads shown on the Troubleshooting page.
INSTALLATION = PREFIX + "console:installation"  # hash: helpdesk url, account, admin token, dashboard app


def login_failures(client: str) -> str:
    """Failed console sign-ins from one client address (expires 15 minutes after the last failure)."""
    return f"{PREFIX}console:login-fail:{client}"


def signup(signup_id: str) -> str:
    """One Embedded Signup in progress: its code/token and its session info, joined when both arrived."""
    return f"{PREFIX}console:signup:{signup_id}"


def number_health(phone_number_id: str) -> str:
    """Hash: a number's health from Graph and from Meta's account webhooks."""
    return f"{PREFIX}console:health:{phone_number_id}"


def waba_health(waba_id: str) -> str:
    """Hash: the last account_update Meta sent about a WABA."""
    return f"{PREFIX}console:waba:{waba_id}"


def hourly_stats(phone_number_id: str, hour: int) -> str:
    """Hash of one hour's counters (in, out, fail:<reason>); `hour` is Unix time // 3600."""
    return f"{PREFIX}console:stats:{phone_number_id}:{hour}"


def last_traffic(phone_number_id: str) -> str:
    """Hash: when the number last received (in) and sent (out) a message."""
    return f"{PREFIX}console:last:{phone_number_id}"


def recent_failures(phone_number_id: str) -> str:
    """Capped list of a number's latest failures (reason and time), newest first."""
    return f"{PREFIX}console:failures:{phone_number_id}"


def webhook_payloads(source: str) -> str:
    """Capped list of the latest webhook requests from `source` (meta or helpdesk) and what became of each."""
    return f"{PREFIX}console:payloads:{source}"
