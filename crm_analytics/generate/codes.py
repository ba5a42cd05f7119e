"""Promo code activations at each club: welcome bonuses for new members, limits that
run out, activations after a code ended, and one code that leaked to a few people."""

from __future__ import annotations

import random
from bisect import bisect_right
from datetime import date, datetime, time, timedelta
from itertools import accumulate

from . import rows
from .draw import SECOND, pick, randint
from .reference import PromoCode
from .sim import Sim

NEW_MEMBER_SHARE = 0.35
EXPIRED_SHARE = 0.02
PER_CLIENT_CAP = 5_000  # per code: bounds memory; beyond it account limits go unchecked
LEAK_RING = 2
LEAK_DAILY = 0.3


class Activations:
    def __init__(self, sim: Sim) -> None:
        self.sim = sim
        leak = sim.world.leak_code
        ring_rng = random.Random(sim.seed + 99)
        ring: list[int] = []
        for _ in range(100):  # a tiny sample may not have enough members at that club
            i = sim.pop.pick_between(ring_rng, leak.location, 0, sim.pop.initial)
            if i is not None and i not in ring:
                ring.append(i)
            if len(ring) == LEAK_RING:
                break
        self.ring = ring

    def _client(self, code: PromoCode, day: date) -> int | None:
        rng, pop = self.sim.rng, self.sim.pop
        if rng.random() < NEW_MEMBER_SHARE:
            lo = pop.count_before(day - timedelta(days=14))
            client = pop.pick_between(rng, code.location, lo, pop.count_before(day))
            if client is not None:
                return client
        return pop.pick(rng, code.location, day)

    def _activate(self, code: PromoCode, client: int, when: datetime) -> None:
        sim, rng = self.sim, self.sim.rng
        if code.account_limit is not None:
            used = code.per_client.get(client, 0)
            if used >= code.account_limit:
                return
            if used or len(code.per_client) < PER_CLIENT_CAP:
                code.per_client[client] = used + 1
        code.activations += 1
        bonus = code.bonus if rng.random() < 0.95 else code.bonus * 2
        loc = sim.world.locations[code.location]
        row = rows.promo_activation(
            sim.next_id("activation"),
            code.id,
            sim.pop.client_id(client),
            when,
            bonus,
            None,
            when + SECOND * randint(rng, 0, 30),
        )
        sim.write("promo_activations", row, loc.off)
        if sim.messy and rng.random() < 0.01:
            later = when + timedelta(days=randint(rng, 1, 4))
            sim.pending.correct(later, "promo_activations", rows.deleted(row, later), loc.off)

    def day(self, day: date) -> None:
        sim, rng = self.sim, self.sim.rng
        noon = datetime.combine(day, time(12))
        active = [c for c in sim.world.codes if c.weight > 0 and c.valid(noon)]
        expired = [
            c
            for c in sim.world.codes
            if c.weight > 0 and c.ends_at is not None and c.ends_at <= noon
        ]
        cum = list(accumulate(c.weight for c in active))
        for _ in range(sim.count(sim.vol.activations_per_day)):
            if expired and rng.random() < EXPIRED_SHARE:
                code = pick(rng, expired)  # the till still accepts it
            elif active:
                code = active[bisect_right(cum, rng.random() * cum[-1])]
            else:
                continue
            if code.exhausted():
                continue
            client = self._client(code, day)
            if client is not None:
                self._activate(code, client, _time_of_day(rng, day))
        leak = sim.world.leak_code
        if (
            self.ring
            and day >= sim.world.leak_from
            and leak.valid(noon)
            and rng.random() < LEAK_DAILY
        ):
            member = pick(rng, self.ring)
            for _ in range(randint(rng, 1, 3)):
                self._activate(leak, member, _time_of_day(rng, day))


def _time_of_day(rng: random.Random, day: date) -> datetime:
    return datetime.combine(day, time(8)) + timedelta(
        minutes=randint(rng, 0, 14 * 60), seconds=randint(rng, 0, 59)
    )
