"""How much of everything a given scale means (scale 1 ≈ 1,000 clients a year)."""

from __future__ import annotations

import math
from dataclasses import dataclass

# Per client per year. Visits carry ~1.6 appointments and ~1.7 sales each; the rest of
# the ~10 sales per client come from shop purchases, clienteling follow-ups and refunds.
VISITS_PER_CLIENT = 2.45
SHOP_PURCHASES_PER_CLIENT = 3.1
ACTIVITIES_PER_CLIENT = 2.0
ACTIVATIONS_PER_CLIENT = 0.5  # plus the leaked code's ring, which does not scale
SMS_CAMPAIGNS_PER_YEAR = 36
SMS_CAMPAIGN_REACH = 0.035  # share of clients one campaign reaches


@dataclass(frozen=True)
class Volumes:
    clients: int
    initial_clients: int  # registered before the window: the first full export
    locations: int
    visits_per_day: float
    shop_purchases_per_day: float
    activities_per_day: float
    activations_per_day: float
    sms_campaign_size: int


def volumes(scale: float) -> Volumes:
    if scale <= 0:
        raise ValueError("scale must be positive")
    clients = max(60, round(1000 * scale))
    per_day = clients / 365.0
    return Volumes(
        clients=clients,
        initial_clients=round(clients * 0.4),
        # Chains grow their client base faster than their store count.
        locations=max(2, 5 + round(math.sqrt(scale))),
        visits_per_day=VISITS_PER_CLIENT * per_day,
        shop_purchases_per_day=SHOP_PURCHASES_PER_CLIENT * per_day,
        activities_per_day=ACTIVITIES_PER_CLIENT * per_day,
        activations_per_day=ACTIVATIONS_PER_CLIENT * per_day,
        sms_campaign_size=max(5, round(clients * SMS_CAMPAIGN_REACH)),
    )
