"""The composition root: config → store → probes → scheduler → node table → plan → dispatch.

Signals: SIGHUP reloads the config atomically (build, validate, swap; a bad
config keeps the old one running); SIGTERM/SIGINT stop probing, drain the
outbox for a bounded time, flush and close the database, and exit 0.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections import Counter
from collections.abc import Coroutine, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client.core import Metric

from dispatch.dispatcher import Dispatcher
from dispatch.event_records import record_events
from dispatch.followup import FollowUp
from dispatch.receiver import Receiver
from monitor.config import Config, ConfigError
from monitor.config.load_child import load_in_child
from monitor.config.masking import secret_values
from monitor.config.names import PROBE_KINDS
from monitor.config.sources import CONTROL_SOCKET
from monitor.nodes.state import Transition
from monitor.nodes.table import Applied, NodeTable, streak_cap
from monitor.plan.priority import nodes_first
from monitor.runtime import sdnotify
from monitor.runtime.change_log import log_changes
from monitor.runtime.clock_metrics import ClockSource
from monitor.runtime.control import ControlServer
from monitor.runtime.guarantee_sync import GuaranteeSync
from monitor.runtime.logs import remember_secrets, setup_logging
from monitor.runtime.loop_health import LoopLag, RoundPhases, Stopwatch
from monitor.runtime.memory import MemoryTrimmer
from monitor.runtime.metrics import DaemonMetrics, MetricsServer
from monitor.runtime.plan_loop import PlanRuntime
from monitor.runtime.restore import seed_spread
from monitor.runtime.scheduler import ProbeScheduler
from monitor.storage.engine import open_engine, redact_url
from monitor.storage.migrations import prepare
from monitor.storage.schema_child import upgrade_in_child
from monitor.storage.store import Store
from monitor.storage.writer import StoreWriter
from probes.base import Probe, ProbeError, ProbeResult
from probes.registry import PROBES, build_probes

if TYPE_CHECKING:  # pysnmp (~30 MiB) and the web stack load only when traps / the console run
    from monitor.config.inventory import NodeConfig
    from monitor.console.server import ConsoleServer
    from probes.traps import TrapReceiver

log = logging.getLogger(__name__)

DRAIN_SECONDS = 10.0
YIELD_EVERY = 200  # results per loop step: short steps, and a cut round stops there
GC_THRESHOLDS = (10_000, 10, 10)  # see run(): fewer young collections, almost no full ones


class Daemon:
    """One running commwatch; `run()` returns the process exit code."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.stopping = asyncio.Event()
        self.table = NodeTable(config)
        self.metrics = DaemonMetrics(self.table)
        self.scheduler = ProbeScheduler(self.metrics, self._run_round)
        self.loop_lag = LoopLag()
        self.phases = RoundPhases()
        # streaks reach their cap after streak_cap rounds: then the GC is settled once
        self.trimmer = MemoryTrimmer(first=_longest_interval(config) * (streak_cap(config) + 1))
        self.probes: dict[str, Probe] = {}
        self.engine = open_engine(
            config.daemon.storage.url, config.daemon.storage.busy_timeout.total_seconds()
        )
        self.store = Store(self.engine)
        self.writer = StoreWriter(self.store, config.daemon.storage)
        self.receiver = Receiver(config, self.engine)
        events = record_events(self.engine, self.receiver.incidents)  # SMPP receipts, replies
        self.dispatcher = Dispatcher(config, self.engine, on_event=events)
        self.plan = PlanRuntime(config, self.engine, self.dispatcher)
        self.guarantees = GuaranteeSync(self.engine)
        self.followup = FollowUp(config, self.engine, nudge=self.dispatcher.nudge)
        self.dispatcher.on_cycle.append(self.followup.wake)  # routed, sent, failed: look again
        self.server: MetricsServer | None = None
        self.traps: TrapReceiver | None = None
        self.console: ConsoleServer | None = None
        state_dir = Path(config.daemon.console.state_dir)  # a change needs a restart
        self.control = ControlServer(state_dir / CONTROL_SOCKET, self._answer)
        self._reloading = asyncio.Lock()
        self._scorer: asyncio.Task[None] | None = None
        self._rescore = False
        self._background: set[asyncio.Task[Any]] = set()

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def run(self) -> int:
        """Start everything, wait for a stop signal, shut down cleanly."""
        busy = self.config.daemon.storage.busy_timeout.total_seconds()
        created = await asyncio.to_thread(
            prepare,
            self.engine,
            str(self.config.directory),
            lambda engine: upgrade_in_child(engine, busy),  # Alembic stays out of the daemon
        )
        if created is not None:
            log.info(
                "new database: schema created",
                extra={
                    "fields": {
                        "storage": redact_url(self.config.daemon.storage.url),
                        "revision": created.label,
                    }
                },
            )
        restored = await asyncio.to_thread(self.store.load_node_states)
        await asyncio.to_thread(self.store.sync_nodes, self.config.inventory.node)
        self.table.reconfigure(self.config, restored)
        self.writer.start()
        self.metrics.config_loaded(True)
        self._register_metrics()
        self._start_metrics_server()
        await self._restore_spread()
        await self.plan.start(self.table.statuses())
        await self._start_console()
        await self._start_control()
        self.followup.start()
        await self.receiver.start()
        self.probes = build_probes(self.config)
        self.scheduler.start()
        self._plan_jobs()
        await self._start_traps()
        self._install_signals()
        self.loop_lag.start()
        gc.freeze()  # start-up objects (config, node table) leave the collector's scans
        # Each result allocates ~10 tracked objects; with the default threshold (700)
        # a 100k-node daemon ran ~12 full collections a minute of up to 0.3 s each
        # (the loop-lag p99). 10,000 keeps young collections short and full ones rare.
        gc.set_threshold(*GC_THRESHOLDS)
        self.trimmer.start()  # freed heap back to the OS; the GC settled after the first rounds
        watchdog = asyncio.create_task(self._watchdog())
        sdnotify.ready(f"probing {len(self.config.nodes)} nodes")
        log.info(
            "commwatch started",
            extra={
                "fields": {
                    "config": str(self.config.directory),
                    "nodes": len(self.config.nodes),
                    "storage": redact_url(self.config.daemon.storage.url),
                }
            },
        )
        await self.stopping.wait()
        sdnotify.stopping()
        watchdog.cancel()
        await self._shutdown()
        return 0

    async def _restore_spread(self) -> None:
        """Replay the spread window's state changes (restart safety, monitor.runtime.restore)."""
        now = datetime.now(UTC)
        since = now - self.plan.history.window
        changes = await asyncio.to_thread(self.store.changes_since, since)
        seed_spread(self.config, self.plan.history, self.table.statuses(), changes, now)

    def _register_metrics(self) -> None:
        """Every component exports its own figures into the one registry."""
        for source in (
            self.writer, self.plan, self.dispatcher, self.followup, self.receiver,
            ClockSource(self.plan.incidents), self.loop_lag, self.phases, self.control,
        ):  # fmt: skip
            self.metrics.register(source)
        self.metrics.collector.add_source(self._probe_families)

    def _probe_families(self) -> Iterator[Metric]:
        """The current probers' and the trap receiver's figures (both change on reload)."""
        for probe in list(self.probes.values()):
            yield from probe.metric_families()
        if self.traps is not None:
            yield from self.traps.metric_families()

    def _start_metrics_server(self) -> None:
        metrics_config = self.config.daemon.metrics
        if not metrics_config.enabled:
            return
        self.server = MetricsServer(self.metrics.registry, metrics_config.host, metrics_config.port)
        try:
            self.server.start()
        except OSError as exc:
            raise listen_error(
                "metrics", f"{metrics_config.host}:{metrics_config.port}", exc
            ) from exc

    async def _start_console(self) -> None:
        """The duty console (web + JSON API); a console that cannot bind is logged, not fatal."""
        if not self.config.daemon.console.enabled:
            return
        from monitor.console.live import DaemonLive  # web stack loads only when the console runs
        from monitor.console.server import ConsoleServer, build_console

        live = DaemonLive(self.table, self.plan)
        try:
            console = build_console(
                lambda: self.guarantees.current(self.config),  # with windows entered on duty
                self.engine,
                live,
                self.dispatcher.nudge,
            )
            server = ConsoleServer(console)
            await server.start()
        except OSError as exc:
            log.error("console not started", extra={"fields": {"error": str(exc)}})
            return
        self.console = server

    async def _start_control(self) -> None:
        """The control socket (`commwatch status`); one that cannot be made is logged, not fatal."""
        try:
            await self.control.start()  # in the state directory, never made here
        except OSError as exc:
            log.error("control socket not started", extra={"fields": {"error": str(exc)}})

    def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        """A control-socket request, answered by the CLI's own renderer (worker thread)."""
        from monitor.commands.status import answer

        return answer(self.config, self.engine, request)

    async def _start_traps(self) -> None:
        traps = self.config.daemon.traps
        if not traps.enabled:
            return
        from probes.traps import TrapReceiver  # pysnmp, lazily

        self.traps = TrapReceiver(
            traps, self.config.daemon.snmp.auth, self._addresses(), self._on_trap
        )
        try:
            await self.traps.start()
        except OSError as exc:
            raise listen_error("traps", traps.listen, exc) from exc
        log.info("trap receiver listening", extra={"fields": {"address": traps.listen}})

    def _addresses(self) -> dict[str, str]:
        return {node.address: node.id for node in self.config.inventory.node}

    def _on_trap(self, node_id: str, trap_name: str, varbinds: dict[str, Any]) -> None:
        """A trap from a known node: probe it again now (the fast path to detection)."""
        node = self.config.nodes.get(node_id)
        if node is None:
            return
        log.info("trap received", extra={"fields": {"node": node_id, "trap": trap_name}})
        for kind in node.probes:
            self.scheduler.probe_now(kind, [node])

    def _plan_jobs(self) -> None:
        for kind in PROBE_KINDS:
            nodes = nodes_first(
                self.config, [n for n in self.config.inventory.node if kind in n.probes]
            )
            interval = getattr(self.config.daemon.probes, kind).interval
            self.scheduler.plan(kind, nodes, interval)

    async def _run_round(self, kind: str, nodes: Sequence[NodeConfig]) -> None:
        """One bucket: probe, feed the node table, hand rows to the writer, score if due.

        Per result O(1) (one table step, a few writer submits); the plan is
        scored only when a node's scored status changed or a clock requires it
        (PlanRuntime.due), since scoring reads every node.
        """
        probe = self.probes.get(kind)
        if probe is None:
            return
        watch = Stopwatch()
        monitor = self.plan.self_monitor
        try:
            if monitor.uplink.determinable:  # ping the uplink beside the round
                results, answered = await asyncio.gather(probe.probe_round(nodes), monitor.check())
            else:
                results, answered = await probe.probe_round(nodes), {}
        except ProbeError as exc:
            self.metrics.probe_errors.labels(kind).inc()
            log.error("probe cannot run", extra={"fields": {"probe": kind, "error": str(exc)}})
            return
        self.phases.add(kind, "probe", watch.lap())
        now = datetime.now(UTC)
        self.table.note(results, now)
        self.table.blind = monitor.judge(self.table, answered, now)
        changed = False
        changes: list[Transition] = []
        state_s = store_s = 0.0
        applied_up_to = 0
        try:
            for start in range(0, len(results), YIELD_EVERY):
                if start:
                    await asyncio.sleep(0)  # short loop steps; a round cut here stops here
                    watch.lap()
                chunk = results[start : start + YIELD_EVERY]
                applied = [self._apply(kind, r, now) for r in chunk]
                applied_up_to = start + len(chunk)
                state_s += watch.lap()
                changed = self._store_round(kind, applied, changes) or changed
                store_s += watch.lap()
        finally:
            # the round's samples in one hand-off (one wake-up of the writer thread, not
            # one per loop step); a cut round still hands over what it applied
            self.writer.submit_samples(results[:applied_up_to])
            store_s += watch.lap()
        self.phases.add(kind, "state", state_s)
        self.phases.add(kind, "store", store_s)
        if changes:
            log_changes(kind, changes, self.config.nodes)
        monitor.settle(self.table)
        merged = None
        if self.guarantees.due(self.config, now):  # every 15 s, not every bucket
            merged = await asyncio.to_thread(self.guarantees.refresh, self.config, now)
        if merged is not None:  # 保障期 entered on duty (or a reload): stricter thresholds
            self.table.reconfigure(merged)
            self.plan.reconfigure(merged)
        if self.plan.due(now, changed=changed):
            self._request_scoring(kind)

    def _request_scoring(self, kind: str) -> None:
        """Have the district scored on the statuses as they are now, off the round.

        One scorer task at a time: a round that finds it running only asks for
        one more pass, which then scores the statuses as they are by then. So a
        burst of changing rounds costs a few scorings (each reads every node),
        never one per round queued behind each other, and no round waits for one.
        """
        self._rescore = True
        if self._scorer is None or self._scorer.done():
            self._scorer = asyncio.get_running_loop().create_task(self._score_passes(kind))

    async def _score_passes(self, kind: str) -> None:
        while self._rescore:
            self._rescore = False
            watch = Stopwatch()
            try:
                await self.plan.evaluate(
                    self.table.statuses(), self.table.flaps(), datetime.now(UTC)
                )
            except Exception:
                self.plan.clock.stale = True  # the next round scores again
                log.exception("plan scoring failed")
                return
            finally:
                self.phases.add(kind, "score", watch.lap())

    async def scoring_done(self, limit: float | None = None) -> None:
        """Wait (bounded) until no scoring runs: shutdown, tests."""
        scorer = self._scorer
        if scorer is not None and not scorer.done():
            await asyncio.wait([scorer], timeout=limit)

    def _apply(
        self, kind: str, result: ProbeResult, now: datetime
    ) -> tuple[ProbeResult, Applied | None]:
        """One result into the node table; a bad result is its node's problem, not the round's."""
        try:
            return result, self.table.apply(result, now)
        except Exception:
            self.metrics.probe_errors.labels(kind).inc()
            log.exception("probe result not applied", extra={"fields": {"node": result.node}})
            return result, None  # its sample is still stored

    def _store_round(
        self,
        kind: str,
        applied: Sequence[tuple[ProbeResult, Applied | None]],
        changes: list[Transition],
    ) -> bool:
        """States and changes (appended to `changes`) to the writer; counters.

        The samples go to the writer once per round (`_run_round`). True when a
        change matters to the scorer.
        """
        outcomes: Counter[str] = Counter()
        scored_changed = False
        for result, step in applied:
            outcomes["ok" if result.ok else result.error or "failed"] += 1
            if step is None:
                continue
            scored_changed = scored_changed or step.scored_changed
            if step.state_changed:
                self.writer.submit_state(result.node, step.state)
            if step.transition is not None:
                self.writer.submit_transition(step.transition, step.state)
                self.metrics.state_changes.labels(step.transition.current.value).inc()
                changes.append(step.transition)
        for outcome, count in outcomes.items():
            self.metrics.results.labels(kind, outcome).inc(count)
        return scored_changed

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.stopping.set)
        loop.add_signal_handler(signal.SIGINT, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: self._spawn(self.reload()))

    async def reload(self) -> bool:
        """Build and validate the new config, then swap; keep the old one on error.

        Any failure — a ConfigError or anything unexpected while loading or
        swapping — sets commwatch_config_last_reload_successful to 0 and logs why.
        """
        async with self._reloading:
            sdnotify.reloading()
            try:
                directory = self.config.directory  # recorded there for `status` when valid
                config = await asyncio.to_thread(load_in_child, directory, record=True)
            except ConfigError as exc:
                for problem in exc.problems:
                    log.error("config reload rejected", extra={"fields": {"problem": str(problem)}})
                return self._reload_failed()
            except Exception as exc:
                fields = {"problem": f"{type(exc).__name__}: {exc}"}
                log.error("config reload rejected", extra={"fields": fields})
                return self._reload_failed()
            try:
                self._swap(config)
                await asyncio.to_thread(self.store.sync_nodes, config.inventory.node)
            except Exception as exc:
                fields = {"problem": f"{type(exc).__name__}: {exc}"}
                log.exception("config reload failed while applying it", extra={"fields": fields})
                return self._reload_failed()
            self.metrics.config_loaded(True)
            sdnotify.ready(f"probing {len(config.nodes)} nodes")
            log.info("config reloaded", extra={"fields": {"nodes": len(config.nodes)}})
            return True

    def _reload_failed(self) -> bool:
        self.metrics.config_loaded(False)
        sdnotify.ready("config reload rejected; running on the previous config")
        return False

    def _swap(self, config: Config) -> None:
        old = self.config
        for section in ("storage", "metrics", "console"):
            if getattr(old.daemon, section) != getattr(config.daemon, section):
                log.warning("config change needs a restart", extra={"fields": {"section": section}})
        if old.daemon.logging != config.daemon.logging:
            setup_logging(config.daemon.logging.format, config.daemon.logging.level)
        remember_secrets(secret_values(old.daemon) | secret_values(config.daemon))
        self.config = config
        self.table.reconfigure(config)
        self.plan.reconfigure(config)
        self.followup.reconfigure(config)
        self.receiver.reconfigure(config)
        if self.traps is not None:
            self.traps.update_nodes(self._addresses())
        if old.daemon.probes != config.daemon.probes or old.daemon.snmp != config.daemon.snmp:
            stale, self.probes = self.probes, build_probes(config)
            for probe in stale.values():
                self._spawn(probe.close())
        else:
            self.probes = build_probes_missing(config, self.probes)
        self._plan_jobs()

    async def _watchdog(self) -> None:
        period = sdnotify.watchdog_interval()
        if period is None:
            return
        while True:
            sdnotify.watchdog()
            await asyncio.sleep(period)

    async def _shutdown(self) -> None:
        log.info("commwatch stopping")
        await self.control.stop()  # from now on `status` reads the database
        await self.loop_lag.stop()
        await self.trimmer.stop()
        if self.console is not None:
            await self.console.stop()
        await self.scheduler.shutdown()
        await self.scoring_done(DRAIN_SECONDS)
        if self.traps is not None:
            await self.traps.stop()
        for probe in self.probes.values():
            await probe.close()
        await self.receiver.stop()
        await self.followup.stop()
        await self.plan.stop(DRAIN_SECONDS)
        await asyncio.to_thread(self.writer.close, DRAIN_SECONDS)
        if self.server is not None:
            self.server.stop()
        self.engine.dispose()
        log.info("commwatch stopped")


def listen_error(section: str, address: str, exc: OSError) -> OSError:
    """A bind failure that names the config key and the address (not only "[Errno 98] …")."""
    why = exc.strerror or str(exc)
    return OSError(
        f"cannot listen on {address} ([{section}] listen in commwatch.toml): {why}"
        " — another process has it, or the address is not on this host"
    )


def _longest_interval(config: Config) -> float:
    """Seconds of the longest probe interval (when every node has had its first round)."""
    return max(
        float(getattr(config.daemon.probes, kind).interval.total_seconds()) for kind in PROBE_KINDS
    )


def build_probes_missing(config: Config, current: dict[str, Probe]) -> dict[str, Probe]:
    """Keep running probers and add those that newly configured nodes need."""
    wanted = {kind for node in config.inventory.node for kind in node.probes}
    missing = wanted - set(current)
    if not missing:
        return dict(current)
    return {**current, **{kind: PROBES[kind](config) for kind in sorted(missing)}}
