"""Services: everything the web and the workers share, built once from Settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from redis import RedisError

from adapter.bridge.context import BridgeContext
from adapter.bridge.optout import OptOuts
from adapter.bridge.throttle import Limits, Throttle
from adapter.bridge.window import WindowTracker
from adapter.bridge.window_policy import WindowGate
from adapter.clock import Clock, SystemClock
from adapter.errors import ConfigurationError
from adapter.helpdesk.client import HelpdeskClient
from adapter.meta.client import GraphClient
from adapter.metrics import Metrics
from adapter.monitoring.costs import CostLedger
from adapter.queue.queue import JobQueue
from adapter.settings import Settings
from adapter.store.channels import ChannelRepository
from adapter.store.connection import Store, connect
from adapter.store.deferred import DeferredWrites
from adapter.store.deliveries import DeliveryGate
from adapter.store.events import EventLog
from adapter.store.mappings import Mappings
from adapter.store.secrets import secret_box
from adapter.templates.repository import TemplateRepository


@dataclass
class Services:
    settings: Settings
    store: Store
    clock: Clock
    queue: JobQueue
    channels: ChannelRepository
    mappings: Mappings
    deliveries: DeliveryGate
    window: WindowTracker
    events: EventLog
    deferred: DeferredWrites
    metrics: Metrics
    graph: GraphClient
    helpdesk: HelpdeskClient
    templates: TemplateRepository
    optouts: OptOuts
    gate: WindowGate
    costs: CostLedger
    # Transport freshness (webhook timestamps) is judged by the wall clock, whatever the domain clock says.
    wall_clock: Clock = field(default_factory=SystemClock)
    _bridge: BridgeContext | None = field(default=None, repr=False)

    def bridge(self) -> BridgeContext:
        """The bridge's dependencies, built once (its throttle registers Lua scripts)."""
        if self._bridge is None:
            self._bridge = self._build_bridge()
        return self._bridge

    def _build_bridge(self) -> BridgeContext:
        return BridgeContext(
            graph=self.graph,
            helpdesk=self.helpdesk,
            channels=self.channels,
            mappings=self.mappings,
            window=self.window,
            gate=self.gate,
            optouts=self.optouts,
            throttle=Throttle(
                self.store,
                self.clock,
                Limits(
                    number_per_second=self.settings.outbound_per_second,
                    pair_per_second=1 / self.settings.pair_interval_seconds,
                    pair_burst=self.settings.pair_burst,
                ),
            ),
            clock=self.clock,
            events=self.events,
            deferred=self.deferred,
            costs=self.costs,
            unknown_outcome_wait_seconds=self.settings.unknown_outcome_wait_seconds,
        )


def refuse_plaintext_secrets(services: Services) -> None:
    """Startup refuses to run with stored secrets and no key to read them."""
    if services.settings.encryption_key:
        return
    try:
        stored = services.channels.has_secrets()
    except RedisError:
        return  # cannot tell yet; every read of a sealed secret without a key fails loudly anyway
    if stored:
        raise ConfigurationError(
            "Channels with access tokens are stored, but ENCRYPTION_KEY is not set: set the key they were saved with."
        )


def build_services(settings: Settings, *, store: Store | None = None, clock: Clock | None = None) -> Services:
    store = store if store is not None else connect(settings.redis_url)
    clock = clock or SystemClock()
    timeout, media_max = settings.http_timeout_seconds, settings.media_max_bytes
    deferred = DeferredWrites(store)
    metrics = Metrics(deferred)
    window = WindowTracker(store, clock)
    templates = TemplateRepository(store, clock)
    optouts = OptOuts(store)
    return Services(
        settings=settings,
        store=store,
        clock=clock,
        queue=JobQueue(
            store, partitions=settings.queue_partitions, dedupe_ttl_seconds=settings.dedupe_ttl_seconds, clock=clock
        ),
        channels=ChannelRepository(store, secret_box(settings.encryption_key)),
        mappings=Mappings(store),
        deliveries=DeliveryGate(store, ttl_seconds=2 * settings.helpdesk_webhook_max_age_seconds),
        window=window,
        events=EventLog(store, clock, deferred),
        deferred=deferred,
        metrics=metrics,
        graph=GraphClient(settings.graph_url, timeout=timeout, media_max_bytes=media_max, metrics=metrics),
        helpdesk=HelpdeskClient(
            settings.helpdesk_base_url, timeout=timeout, media_max_bytes=media_max, metrics=metrics,
            attachment_hosts=settings.helpdesk_attachment_hosts,
        ),
        templates=templates,
        optouts=optouts,
        gate=WindowGate(window, templates, optouts, clock, metrics),
        costs=CostLedger(store, clock),
    )
