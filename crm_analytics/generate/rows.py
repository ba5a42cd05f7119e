"""Row builders in the contract's column order (a test checks the order against it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

Row = tuple[Any, ...]


def appointment(
    appointment_id: str,
    visit_id: str,
    location_id: str,
    client_id: str | None,
    specialist_id: str | None,
    promotion_id: str | None,
    deal_id: str | None,
    starts_at: datetime,
    created_at: datetime,
    status: str,
    is_online: bool | None,
    is_deleted: bool | None,
    updated_at: datetime,
) -> Row:
    return (
        appointment_id,
        visit_id,
        location_id,
        client_id,
        specialist_id,
        promotion_id,
        deal_id,
        starts_at,
        created_at,
        status,
        is_online,
        is_deleted,
        updated_at,
    )


def deal(
    deal_id: str,
    location_id: str,
    client_id: str | None,
    opened_at: datetime,
    channel: str | None,
    status: str | None,
    is_deleted: bool | None,
    updated_at: datetime,
) -> Row:
    return (deal_id, location_id, client_id, opened_at, channel, status, is_deleted, updated_at)


def sale(
    sale_id: str,
    location_id: str,
    client_id: str | None,
    deal_id: str | None,
    visit_id: str | None,
    specialist_id: str | None,
    kind: str | None,
    amount: int,
    status: str,
    posted_at: datetime | None,
    created_at: datetime,
    is_deleted: bool | None,
    updated_at: datetime,
) -> Row:
    return (
        sale_id,
        location_id,
        client_id,
        deal_id,
        visit_id,
        specialist_id,
        kind,
        amount,
        status,
        posted_at,
        created_at,
        is_deleted,
        updated_at,
    )


def promo_activation(
    activation_id: str,
    promo_code_id: str,
    client_id: str,
    activated_at: datetime,
    bonus_amount: int,
    is_deleted: bool | None,
    updated_at: datetime,
) -> Row:
    return (
        activation_id,
        promo_code_id,
        client_id,
        activated_at,
        bonus_amount,
        is_deleted,
        updated_at,
    )


def activity(
    activity_id: str,
    client_id: str,
    location_id: str,
    associate_id: str | None,
    activity_type: str,
    occurred_at: datetime,
    is_deleted: bool | None,
    updated_at: datetime,
) -> Row:
    return (
        activity_id,
        client_id,
        location_id,
        associate_id,
        activity_type,
        occurred_at,
        is_deleted,
        updated_at,
    )


def sms_message(
    message_id: str,
    client_id: str,
    campaign: str | None,
    sent_at: datetime,
    status: str,
    is_deleted: bool | None,
    updated_at: datetime,
) -> Row:
    return (message_id, client_id, campaign, sent_at, status, is_deleted, updated_at)


# Column positions used when deriving a later version of a row.
APPOINTMENT_STATUS, APPOINTMENT_ONLINE = 9, 10
DEAL_STATUS = 5
SALE_STATUS, SALE_POSTED_AT = 8, 9
SMS_STATUS = 4


def revised(row: Row, updated_at: datetime, changes: dict[int, Any] | None = None) -> Row:
    """A later version of `row` (is_deleted and updated_at are the last two columns)."""
    out = list(row)
    for index, value in (changes or {}).items():
        out[index] = value
    out[-1] = updated_at
    return tuple(out)


def deleted(row: Row, updated_at: datetime) -> Row:
    out = list(row)
    out[-2] = True
    out[-1] = updated_at
    return tuple(out)
