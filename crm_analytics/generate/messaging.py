"""SMS: marketing campaigns to sampled clients and reminders before booked visits."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from . import rows
from .draw import randint
from .plan import SMS_CAMPAIGNS_PER_YEAR
from .sim import Sim
from .vocab import SMS_CAMPAIGNS

REMINDER = "Напоминание о визите"


def campaign_days(start: date, stop: date) -> dict[date, tuple[str, int | None]]:
    """Evenly spread campaign days: name and target location (None = whole chain)."""
    days = (stop - start).days
    n = max(1, round(SMS_CAMPAIGNS_PER_YEAR * days / 365))
    plan: dict[date, tuple[str, int | None]] = {}
    for k in range(n):
        day = start + timedelta(days=int((k + 0.5) * days / n))
        name = SMS_CAMPAIGNS[k % len(SMS_CAMPAIGNS)]
        plan[day] = (name, None if k % 3 else k)  # every third targets one location
    return plan


def message(sim: Sim, client: int, campaign: str | None, sent_at: datetime) -> None:
    rng = sim.rng
    off = sim.pop.location_of(client).off
    r = rng.random()
    status = "delivered" if r < 0.82 else "sent" if r < 0.9 else "failed"
    row = rows.sms_message(
        sim.next_id("sms"),
        sim.pop.client_id(client),
        campaign,
        sent_at,
        sim.enum(status),
        None,
        sent_at,
    )
    if status == "delivered" and sim.messy and rng.random() < 0.1:
        # First exported as sent, then the delivery report updates it.
        sim.write("sms_messages", rows.revised(row, sent_at, {rows.SMS_STATUS: "sent"}), off)
        later = sent_at + timedelta(minutes=randint(rng, 1, 48 * 60))
        if later < sim.end_dt and sim.pending.correct(
            later, "sms_messages", rows.revised(row, later), off
        ):
            return
    sim.write("sms_messages", row, off)


def run_campaign(sim: Sim, day: date, name: str, target: int | None) -> None:
    rng = sim.rng
    locations = sim.world.locations
    base = datetime.combine(day, time(11))
    for k in range(sim.vol.sms_campaign_size):
        loc = locations[target % len(locations)] if target is not None else sim.location()
        client = sim.pop.pick(rng, loc.index, day)
        if client is not None:
            message(sim, client, name, base + timedelta(seconds=k * 3 + randint(rng, 0, 2)))


def reminder(sim: Sim, client: int, starts_at: datetime, created: datetime) -> None:
    """The day before a visit booked in advance (exported with the visit's period)."""
    sent_at = starts_at - timedelta(days=1, minutes=randint(sim.rng, 0, 120))
    if created < sent_at < sim.end_dt:
        message(sim, client, REMINDER, sent_at)
