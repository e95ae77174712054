"""A simulation of docs/scaling.md's plan past one machine: shard leases, a leader lease, failover.

    python bench/shard_sim.py [--instances 3] [--shards 64] [--nodes 100000] [--seconds 900]

Pure, deterministic (seeded), no database: the PostgreSQL rows of the plan are
modelled as Python objects with the same compare-and-set rules, and time is a
1 s step. What it runs:

- S shards; a node's shard is a stable hash of its id (sha1, mod S), so adding
  or removing nodes never moves other nodes;
- each instance renews its shard leases every RENEW s (TTL = LEASE s); it takes
  an expired shard (a compare-and-set that bumps the shard's epoch, the fencing
  token) only while it owns fewer than its fair share ceil(S / live instances),
  and hands shards back above that share;
- one leader: the instance holding the leader lease (in PostgreSQL a session
  advisory lock plus a leader epoch row, here the same CAS on one row); only
  the leader scores and inserts notice requests, each with a unique dedupe key
  and its epoch checked in the same transaction;
- faults: an instance crashes (stops renewing), a network partition cuts an
  instance off the database for a while (it keeps running, its writes fail),
  the leader's process is paused (a stop-the-world stall) past its lease and
  resumes exactly where it was — about to insert a notice with its old epoch —
  and instances come back.

Checked every step: no shard has two owners that both can write (the fencing
epoch rejects the stale one), every shard is owned again within LEASE + RENEW
seconds of losing its owner, at most one leader can write, no notice is
inserted twice, and how many nodes moved on each membership change.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import random
from dataclasses import dataclass, field

RENEW, LEASE = 5, 15  # seconds


def shard_of(node_id: str, shards: int) -> int:
    """The stable shard of a node: sha1 of its id, mod the shard count."""
    return int.from_bytes(hashlib.sha1(node_id.encode()).digest()[:8], "big") % shards


@dataclass
class Lease:
    """One lease row: owner, expiry and the fencing epoch (bumped on every takeover)."""

    owner: str | None = None
    expires: int = -1
    epoch: int = 0


@dataclass
class Instance:
    name: str
    alive: bool = True
    reachable: bool = True  # False: partitioned from the database
    shards: dict[int, int] = field(default_factory=dict)  # shard → epoch it believes it holds
    leader_epoch: int | None = None
    last_renew: int = -RENEW
    paused_until: int = -1


@dataclass
class World:
    shards: list[Lease]
    leader: Lease
    instances: list[Instance]
    notices: set[str] = field(default_factory=set)
    duplicate_notices: int = 0
    rejected_writes: int = 0
    orphan_seconds: dict[int, int] = field(default_factory=dict)  # shard → since when unowned

    def live(self, now: int) -> int:
        """Instances with a valid lease on anything or just renewed (the membership estimate)."""
        return max(1, sum(1 for i in self.instances if i.alive and i.reachable))


def step_instance(world: World, inst: Instance, now: int) -> None:
    """One instance's renew/acquire/release round, as SQL compare-and-sets would do it."""
    if not inst.alive or now < inst.paused_until or now - inst.last_renew < RENEW:
        return
    inst.last_renew = now
    if not inst.reachable:
        # Cut off: it cannot renew; it must stop writing once its leases may have expired.
        inst.shards = {s: e for s, e in inst.shards.items() if now < world.shards[s].expires}
        if inst.leader_epoch is not None and now >= world.leader.expires:
            inst.leader_epoch = None
        return
    for shard, epoch in list(inst.shards.items()):
        lease = world.shards[shard]
        if lease.owner == inst.name and lease.epoch == epoch:
            lease.expires = now + LEASE
        else:
            del inst.shards[shard]
    share = math.ceil(len(world.shards) / world.live(now))
    for shard, lease in enumerate(world.shards):
        if len(inst.shards) >= share:
            break
        if lease.expires <= now:  # CAS: UPDATE … SET owner, expires, epoch+1 WHERE expires <= now()
            lease.owner, lease.expires, lease.epoch = inst.name, now + LEASE, lease.epoch + 1
            inst.shards[shard] = lease.epoch
    while len(inst.shards) > share:  # hand back above the fair share
        shard = max(inst.shards)
        world.shards[shard].expires = now
        del inst.shards[shard]
    lead = world.leader
    if lead.owner == inst.name and lead.epoch == inst.leader_epoch:
        lead.expires = now + LEASE
    elif lead.expires <= now:
        lead.owner, lead.expires, lead.epoch = inst.name, now + LEASE, lead.epoch + 1
        inst.leader_epoch = lead.epoch
    else:
        inst.leader_epoch = None


def leader_writes(world: World, now: int, incident: int, only: Instance | None = None) -> None:
    """Every instance that believes it leads tries to insert the notice of the open incident."""
    for inst in world.instances if only is None else [only]:
        if not inst.alive or inst.leader_epoch is None or now < inst.paused_until:
            continue
        if not inst.reachable or world.leader.epoch != inst.leader_epoch:
            world.rejected_writes += 1  # the epoch check in the same transaction refuses it
            continue
        key = f"incident:{incident}:detected"
        if key in world.notices:
            continue  # ON CONFLICT (dedupe_key) DO NOTHING
        world.notices.add(key)


def check(world: World, now: int) -> list[str]:
    problems = []
    for shard, lease in enumerate(world.shards):
        writers = [
            i
            for i in world.instances
            if i.alive and i.reachable and i.shards.get(shard) == lease.epoch
        ]
        if len(writers) > 1:
            problems.append(f"t={now}: shard {shard} has {len(writers)} writers")
        if lease.expires <= now:
            world.orphan_seconds.setdefault(shard, now)
        else:
            world.orphan_seconds.pop(shard, None)
    for shard, since in world.orphan_seconds.items():
        if now - since > LEASE + 2 * RENEW and any(
            i.alive and i.reachable for i in world.instances
        ):
            problems.append(f"t={now}: shard {shard} unowned for {now - since}s")
    return problems


def run(instances: int, shards: int, nodes: int, seconds: int, seed: int) -> int:
    rng = random.Random(seed)
    counts = [0] * shards
    for n in range(nodes):
        counts[shard_of(f"n{n}", shards)] += 1
    world = World(
        [Lease() for _ in range(shards)], Lease(), [Instance(f"i{k}") for k in range(instances)]
    )
    events = {
        120: ("crash", 0),
        240: ("restart", 0),
        300: ("pause-leader", -1),
        360: ("partition", 1),
        420: ("heal", 1),
        540: ("crash", 2 % instances),
        660: ("restart", 2 % instances),
    }
    owners_before: dict[int, str | None] = {}
    problems: list[str] = []
    for now in range(seconds):
        if now in events:
            what, k = events[now]
            leader = next((i for i in world.instances if i.name == world.leader.owner), None)
            inst = leader if k < 0 and leader is not None else world.instances[max(k, 0)]
            owners_before = {s: lease.owner for s, lease in enumerate(world.shards)}
            print(f"t={now:4d}s {what} {inst.name}")
            if what == "crash":
                inst.alive, inst.shards, inst.leader_epoch = False, {}, None
            elif what == "restart":
                inst.alive, inst.last_renew = True, now - RENEW - rng.randrange(RENEW)
            elif what == "pause-leader":
                inst.paused_until = now + LEASE + 2 * RENEW
            elif what == "partition":
                inst.reachable = False
            else:
                inst.reachable = True
        for inst in rng.sample(world.instances, len(world.instances)):
            step_instance(world, inst, now)
        if now % 30 == 0:
            leader_writes(world, now, incident=now // 300)
        for inst in world.instances:
            if inst.paused_until == now:  # resumes mid-step: inserts before it renews
                leader_writes(world, now, incident=now // 300, only=inst)
        problems += check(world, now)
        if owners_before and now - max(t for t in events if t <= now) == LEASE + 2 * RENEW:
            moved = sum(
                counts[s] for s, lease in enumerate(world.shards) if lease.owner != owners_before[s]
            )
            owned = {i.name: sum(counts[s] for s in i.shards) for i in world.instances if i.alive}
            print(
                f"        +{LEASE + 2 * RENEW}s: nodes that changed owner {moved}; nodes per instance {owned}"
            )
            owners_before = {}
    distinct = len(world.notices)
    print(
        f"notices inserted {distinct} (one per incident), stale-leader writes refused {world.rejected_writes}"
    )
    print(f"problems: {len(problems)}")
    for problem in problems[:10]:
        print("  ", problem)
    return 1 if problems or world.duplicate_notices else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--shards", type=int, default=64)
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=900)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    return run(args.instances, args.shards, args.nodes, args.seconds, args.seed)


if __name__ == "__main__":
    raise SystemExit(main())
