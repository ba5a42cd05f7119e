"""R2 chain clients on a hand-made chain; every expected list is worked out in the comments.

Locations: L1 (Moscow, group north), L2 (Yekaterinburg = UTC+5, group east), L3 (Moscow,
group north). Chain clients (records -> identity key):

  A  CA1 L1 + CA2 L2 + CA3 L1, phones "+7 (912) 345-67-89" / "89123456789" / "9123456789"
     -> phone:79123456789; "Анна Иванова", female (ж), gold, cards 1001/1000/1001,
     balance 100.00 + 50.25 + 0; email anna@example.com
  B  CB L1 "Boris Petrov" +7 999 111-22-33, Boris.P@Mail.ru, card 555000, male, silver
  G  CG L2 "Boris Petrov" +7 999 777-66-55, муж -> male, GOLD -> gold
  C  CC L3 "Charlie Brown", charlie@example.org (email key), bronze, unknown gender
  D  CD L2 "Dmitry Sidorov" +7 912 000-00-00, male, none
  E  CE L3 no name, no phone, no email (record key), f -> female
  H  CH L3 "Shaquille O'Neal", shaq_fan@example.net (email key), platinum -> none

Realizations (posted): A 1500 + 500.50 - 200 (refund) = 1800.50 (a 999 draft left out);
B 700 (a cancelled 300 left out); G 700; D 2000; C 700; E and H 0. One anonymous sale.

Visits (arrived): A V1 L1 03-01 10:00 MSK (07:00 UTC) and V2 L2 03-01 11:00 YEKT (06:00 UTC)
-> 2 visits, the latest in absolute time is V1; B V4 L1 02-01 (two arrived appointments,
one visit) and V6 L3 02-15 12:00 -> 2; G V7 L2 03-05 10:00 (online) -> 1; D V8, V9, V10 at
L2 -> 3; C, E, H 0. Non-visits: A cancelled online 05-10 at L1, B booked 05-20 15:00 at L1,
D no_show 05-05 10:00 at L2, E no_show 03-10 at L3.

SMS: A delivered 04-01 10:00; B failed 04-01; G sent 03-15 09:00 (YEKT, its record's zone);
D failed 04-10.

Name order (byte order: Latin before Cyrillic; the two "Boris Petrov" by chain_client_id;
the nameless E last): B/G, C, D, H, A, E.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal

import pytest

from crm_analytics.reports import chain_clients
from crm_analytics.reports.base import connect
from crm_analytics.reports.errors import ReportError
from tests.pipeline import build_warehouse

GENERATED = datetime(2025, 6, 1)


def chain_id(identity_key: str) -> str:
    """chain_client_id per the contract: lower-case hex MD5 of the identity key."""
    return hashlib.md5(identity_key.encode("utf-8")).hexdigest()


A = chain_id("phone:79123456789")
B = chain_id("phone:79991112233")
G = chain_id("phone:79997776655")
C = chain_id("email:charlie@example.org")
D = chain_id("phone:79120000000")
E = chain_id("client:CE")
H = chain_id("email:shaq_fan@example.net")
# The two "Boris Petrov" tie on the name: the chain_client_id decides.
BORIS = sorted([B, G])
BY_NAME = [*BORIS, C, D, H, A, E]


def location(lid, name, group, timezone):
    return {"location_id": lid, "name": name, "location_group": group, "timezone": timezone}


def client(
    cid,
    lid,
    name,
    *,
    phone=None,
    email=None,
    card=None,
    gender=None,
    importance=None,
    registered_at="2024-02-01 10:00",
    balance=None,
):
    return {
        "client_id": cid,
        "location_id": lid,
        "name": name,
        "phone": phone,
        "email": email,
        "card_number": card,
        "gender": gender,
        "importance": importance,
        "registered_at": registered_at,
        "balance": balance,
    }


def appointment(aid, visit, lid, cid, starts_at, status="arrived", online=None):
    return {
        "appointment_id": aid,
        "visit_id": visit,
        "location_id": lid,
        "client_id": cid,
        "starts_at": starts_at,
        "created_at": "2024-12-01 09:00",
        "status": status,
        "is_online": online,
    }


def sale(sid, lid, cid, amount, posted_at, status="posted"):
    return {
        "sale_id": sid,
        "location_id": lid,
        "client_id": cid,
        "amount": amount,
        "status": status,
        "posted_at": posted_at,
        "created_at": "2025-03-01 09:00",
    }


def sms(mid, cid, sent_at, status):
    return {"message_id": mid, "client_id": cid, "sent_at": sent_at, "status": status}


EXTRACTS = {
    "locations": [
        location("L1", "Центр", "north", "Europe/Moscow"),
        location("L2", "Урал", "east", "Asia/Yekaterinburg"),
        location("L3", "Запад", "north", "Europe/Moscow"),
    ],
    "clients": [
        client(
            "CA1",
            "L1",
            "Анна Иванова",
            phone="+7 (912) 345-67-89",
            email="anna@example.com",
            card="1001",
            gender="ж",
            importance="gold",
            registered_at="2024-01-10 10:00",
            balance="100.00",
        ),
        # 11:00 YEKT = 06:00 UTC: earlier in absolute time than CA1's 10:00 MSK = 07:00 UTC
        client(
            "CA2",
            "L2",
            "Анна Иванова",
            phone="89123456789",
            card="1000",
            registered_at="2024-01-10 11:00",
            balance="50.25",
        ),
        client(
            "CA3",
            "L1",
            "Анна Иванова",
            phone="9123456789",
            card="1001",
            registered_at="2024-06-01 10:00",
        ),
        client(
            "CB",
            "L1",
            "Boris Petrov",
            phone="+7 999 111-22-33",
            email="Boris.P@Mail.ru",
            card="555000",
            gender="m",
            importance="silver",
        ),
        client(
            "CG", "L2", "Boris Petrov", phone="+7 999 777-66-55", gender="муж", importance="GOLD"
        ),
        client("CC", "L3", "Charlie Brown", email="charlie@example.org", importance="bronze"),
        client(
            "CD", "L2", "Dmitry Sidorov", phone="+7 912 000-00-00", gender="male", importance="none"
        ),
        client("CE", "L3", None, gender="f"),
        client("CH", "L3", "Shaquille O'Neal", email="shaq_fan@example.net", importance="platinum"),
    ],
    "appointments": [
        appointment("a1", "V1", "L1", "CA1", "2025-03-01 10:00"),
        appointment("a2", "V2", "L2", "CA2", "2025-03-01 11:00"),
        appointment("a3", "V3", "L1", "CA3", "2025-05-10 12:00", "cancelled", online="true"),
        appointment("a4", "V4", "L1", "CB", "2025-02-01 09:00"),
        appointment("a5", "V4", "L1", "CB", "2025-02-01 10:00"),
        appointment("a6", "V5", "L1", "CB", "2025-05-20 15:00", "booked"),
        appointment("a7", "V6", "L3", "CB", "2025-02-15 12:00"),
        appointment("a8", "V7", "L2", "CG", "2025-03-05 10:00", online="true"),
        appointment("a9", "V8", "L2", "CD", "2025-01-10 10:00", online="false"),
        appointment("a10", "V9", "L2", "CD", "2025-01-20 10:00"),
        appointment("a11", "V10", "L2", "CD", "2025-02-20 10:00"),
        appointment("a12", "V11", "L2", "CD", "2025-05-05 10:00", "no_show"),
        appointment("a13", "V12", "L3", "CE", "2025-03-10 10:00", "no_show"),
        appointment("a14", "V13", "L1", None, "2025-03-01 10:00"),
    ],
    "sales": [
        sale("s1", "L1", "CA1", "1500.00", "2025-03-01 12:00"),
        sale("s2", "L2", "CA2", "500.50", "2025-03-02 12:00"),
        sale("s3", "L1", "CA3", "-200.00", "2025-03-03 12:00"),
        sale("s4", "L1", "CA1", "999.00", None, status="draft"),
        sale("s5", "L1", "CB", "700.00", "2025-03-04 12:00"),
        sale("s6", "L2", "CG", "700.00", "2025-03-05 12:00"),
        sale("s7", "L2", "CD", "2000.00", "2025-03-06 12:00"),
        sale("s8", "L3", "CC", "700.00", "2025-03-07 12:00"),
        sale("s9", "L1", "CB", "300.00", "2025-03-08 12:00", status="cancelled"),
        sale("s10", "L1", None, "100.00", "2025-03-09 12:00"),
    ],
    "sms_messages": [
        sms("m1", "CA1", "2025-04-01 10:00", "delivered"),
        sms("m2", "CB", "2025-04-01 10:00", "failed"),
        sms("m3", "CG", "2025-03-15 09:00", "sent"),
        sms("m4", "CD", "2025-04-10 10:00", "failed"),
    ],
}


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    warehouse = build_warehouse(tmp_path_factory.mktemp("r2"), EXTRACTS)
    with connect(warehouse) as connection:
        yield connection


def report(con, role="manager", **params):
    return chain_clients.run(con, params, role, GENERATED)


def ids(con, **params) -> list[str]:
    """The chain_client_ids of the filtered list, in report order."""
    return [row["chain_client_id"] for row in report(con, **params).section("clients").rows]


def client_row(con, chain_client_id: str) -> dict:
    rows = report(con).section("clients").rows
    (row,) = [row for row in rows if row["chain_client_id"] == chain_client_id]
    return row


# --- search -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("анна", [A]),  # lower-case Cyrillic finds "Анна Иванова"
        ("ИВАНОВА", [A]),  # upper-case Cyrillic: both sides lower-cased
        ("boris", BORIS),  # both "Boris Petrov" records, B and G
        ("  Charlie  ", [C]),  # the text is trimmed first
    ],
)
def test_search_matches_name_substring_case_insensitive(con, search, expected):
    assert ids(con, search=search) == expected


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("MAIL.RU", [B]),  # boris.p@mail.ru
        ("example", [C, H, A]),  # charlie@example.org, shaq_fan@example.net, anna@example.com
        ("@example.org", [C]),
    ],
)
def test_search_matches_email_substring(con, search, expected):
    assert ids(con, search=search) == expected


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("345-67", [A]),  # digits 34567 are inside 79123456789
        ("+7 912", [D, A]),  # digits 7912: 79120000000 and 79123456789
        ("9120", [D]),  # 79120000000 only
        # three digits are too few to search phones, though A's and D's contain 912
        ("912", []),
    ],
)
def test_search_matches_phone_digits_from_four_digits(con, search, expected):
    assert ids(con, search=search) == expected


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("555000", [B]),
        ("1000", [A]),  # the card of A's second record (CA2)
        (" 1001 ", [A]),  # trimmed, then exact
        ("5550", []),  # part of B's card: not a card match, and no phone holds 5550
        ("55500", []),
        ("100", []),
    ],
)
def test_search_matches_card_number_exactly(con, search, expected):
    assert ids(con, search=search) == expected


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("'; drop table marts.dim_clients; --", []),
        ("%", []),  # a literal percent sign: no name or email has one (not a wildcard)
        ("_", [H]),  # a literal underscore: only shaq_fan@example.net has one
        ("'", [H]),  # the apostrophe of O'Neal
        ("o'neal", [H]),
        ('"', []),
        ("\\", []),
        ("' or '1'='1", []),  # two digits only: no phone search either
        ("Ё🙂", []),
    ],
)
def test_search_injection_strings_are_plain_text(con, search, expected):
    assert ids(con, search=search) == expected
    # The warehouse is untouched: every chain client is still listed.
    assert sorted(ids(con)) == sorted(BY_NAME)
    assert con.execute("select count(*) from marts.dim_clients").fetchone() == (7,)


# --- filters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        # records at L1 (CA1, CA3, CB) or L3 (CC, CE, CH); C, E and H never visited
        ("north", [B, C, H, A, E]),
        ("east", [G, D, A]),  # records at L2: CG, CD, CA2
        ("south", []),
    ],
)
def test_location_group_has_a_record_in_the_group(con, group, expected):
    assert ids(con, location_group=group) == expected


@pytest.mark.parametrize(
    ("locations", "expected"),
    [
        (["L3"], [B]),  # E's no_show at L3 is not a visit
        (["L1"], [B, A]),  # the anonymous visit V13 at L1 belongs to nobody
        (["L2", "L3"], [*BORIS, D, A]),  # G, D, A (V2) at L2; B at L3
    ],
)
def test_visited_location_any_of_list(con, locations, expected):
    assert ids(con, visited_location=locations) == expected


@pytest.mark.parametrize(
    ("gender", "expected"),
    [
        ("female", [A, E]),  # ж (other records unknown: skipped), f
        ("male", [*BORIS, D]),  # m, муж, male
        ("unknown", [C, H]),
    ],
)
def test_gender(con, gender, expected):
    assert ids(con, gender=gender) == expected


@pytest.mark.parametrize(
    ("online", "expected"),
    [
        # A's only online appointment was cancelled: it still counts; G arrived online
        ("true", [G, A]),
        ("false", [B, C, D, H, E]),
    ],
)
def test_online_booking_any_appointment_whatever_status(con, online, expected):
    assert ids(con, online_booking=online) == expected


@pytest.mark.parametrize(
    ("importance", "expected"),
    [
        (["gold"], [G, A]),  # GOLD in any case; A's highest record is gold
        (["silver", "bronze"], [B, C]),
        (["none"], [D, H, E]),  # platinum is not a level: none
    ],
)
def test_importance_any_of_list(con, importance, expected):
    assert ids(con, importance=importance) == expected


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        # inclusive on both sides: A 1800.50, B/G/C 700
        ({"spent_min": "700", "spent_max": "1800.50"}, [*BORIS, C, A]),
        ({"spent_min": "1800.50"}, [D, A]),  # open above
        ({"spent_max": "699.99"}, [H, E]),  # open below: the two with 0
        ({"spent_min": "1800.51", "spent_max": "1999.99"}, []),
    ],
)
def test_spent_min_max_inclusive(con, bounds, expected):
    assert ids(con, **bounds) == expected


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        ({"visits_min": "2"}, [B, D, A]),  # B 2, D 3, A 2
        ({"visits_max": "1"}, [G, C, H, E]),  # G 1, C/H/E 0
        ({"visits_min": "2", "visits_max": "2"}, [B, A]),
        ({"visits_min": "4"}, []),
    ],
)
def test_visits_min_max_inclusive(con, bounds, expected):
    assert ids(con, **bounds) == expected


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        # May: B booked 05-20, D no_show 05-05; A's 05-10 is cancelled
        ({"booked_from": "2025-05-01", "booked_to": "2025-06-01"}, [B, D]),
        # from is inclusive: B's appointment starts exactly at 05-20 15:00
        ({"booked_from": "2025-05-20T15:00"}, [B]),
        # to is exclusive
        ({"booked_from": "2025-05-20", "booked_to": "2025-05-20T15:00"}, []),
        ({"booked_from": "2025-05-20", "booked_to": "2025-05-20T15:01"}, [B]),
        ({"booked_from": "2025-05-06"}, [B]),  # open above; D's 05-05 is before
        ({"booked_to": "2025-01-15"}, [D]),  # open below: D's 01-10 only
        # local time of L2: 10:00 YEKT (05:00 UTC) is inside [10:00, 10:01)
        ({"booked_from": "2025-05-05T10:00", "booked_to": "2025-05-05T10:01"}, [D]),
    ],
)
def test_booked_period_not_cancelled_appointment_starting_in_it(con, bounds, expected):
    assert ids(con, **bounds) == expected


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        # everyone but B and D; A only has a cancelled appointment in May
        ({"not_booked_from": "2025-05-01", "not_booked_to": "2025-06-01"}, [G, C, H, A, E]),
        # open above: only B has a not-cancelled appointment from 05-06 on
        ({"not_booked_from": "2025-05-06"}, [G, C, D, H, A, E]),
        # open below, to exclusive: before 2025-01-20 10:00 only D's V8 (01-10)
        ({"not_booked_to": "2025-01-20T10:00"}, [*BORIS, C, H, A, E]),
    ],
)
def test_not_booked_period_has_none(con, bounds, expected):
    assert ids(con, **bounds) == expected


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        # April: A delivered 04-01 10:00; B's and D's messages failed
        ({"sms_from": "2025-04-01", "sms_to": "2025-05-01"}, [A]),
        ({"sms_from": "2025-03-01"}, [G, A]),  # open above
        ({"sms_to": "2025-04-01T10:00"}, [G]),  # open below; A's message is exactly at to
        # G's message is 09:00 in its record's zone (YEKT), 04:00 UTC
        ({"sms_from": "2025-03-15T09:00", "sms_to": "2025-03-15T09:01"}, [G]),
        ({"sms_from": "2025-04-02"}, []),  # only D's failed message is later
    ],
)
def test_sms_period_message_not_failed_sent_in_it(con, bounds, expected):
    assert ids(con, **bounds) == expected


def test_filters_combine(con):
    # G alone passes every one of these; B fails location_group, online_booking,
    # importance, visits_max and the booked/not-booked periods.
    assert ids(
        con,
        search="Boris",
        location_group="east",
        visited_location=["L2"],
        gender="male",
        online_booking="true",
        importance=["gold"],
        spent_min="700",
        spent_max="700",
        visits_min="1",
        visits_max="1",
        booked_from="2025-03-05",
        booked_to="2025-03-06",
        not_booked_from="2025-05-01",
        not_booked_to="2025-06-01",
        sms_from="2025-03-01",
        sms_to="2025-04-01",
    ) == [G]
    assert ids(con, search="boris", online_booking="false") == [B]
    assert ids(con, search="анна", gender="male") == []
    assert ids(con, location_group="north", visits_min="1", sort="visits") == [B, A]


# --- sorting ----------------------------------------------------------------------------


def test_sort_name_default_ties_by_id_nulls_last(con):
    assert ids(con) == BY_NAME
    assert ids(con, sort="name") == BY_NAME


def test_sort_spent_descending_ties_by_name_then_id(con):
    # D 2000, A 1800.50; 700: "Boris Petrov" x2 (by id), "Charlie Brown"; 0: H, nameless E
    assert ids(con, sort="spent") == [D, A, *BORIS, C, H, E]


def test_sort_visits_descending_ties_by_name_then_id(con):
    # D 3; 2: "Boris Petrov" before "Анна Иванова"; G 1; 0: C, H, nameless E
    assert ids(con, sort="visits") == [D, B, A, G, C, H, E]


# --- columns ----------------------------------------------------------------------------


def test_columns_of_a_chain_client_with_three_records(con):
    assert client_row(con, A) == {
        "chain_client_id": A,
        "client_name": "Анна Иванова",
        "phone": "+79123456789",
        "email": "anna@example.com",
        "card_numbers": "1000,1001",  # distinct, sorted, no space
        "gender": "female",  # CA1's ж; unknown records skipped
        "importance": "gold",
        "registered_at": datetime(2024, 1, 10, 11, 0),  # CA2: 06:00 UTC, in YEKT
        "balance": Decimal("150.25"),  # 100.00 + 50.25 + 0
        "total_spent": Decimal("1800.50"),  # 1500 + 500.50 - 200; the draft left out
        "visits": 2,  # V1, V2; the cancelled V3 is none
        # V1 10:00 MSK = 07:00 UTC is later than V2 11:00 YEKT = 06:00 UTC
        "last_visit_at": datetime(2025, 3, 1, 10, 0),
        "locations_visited": 2,
        "location_ids": ["L1", "L2"],  # CA1 and CA3 at L1, CA2 at L2
        "has_online_booking": True,  # the cancelled online appointment counts
        "received_sms": True,
    }


def test_columns_of_a_single_record_client(con):
    row = client_row(con, B)
    assert row["email"] == "boris.p@mail.ru"  # trimmed, lower-cased
    assert row["card_numbers"] == "555000"
    assert row["total_spent"] == Decimal("700.00")  # the cancelled 300 left out
    assert row["visits"] == 2  # V4 (two arrived appointments) and V6
    assert row["last_visit_at"] == datetime(2025, 2, 15, 12, 0)  # V6
    assert row["locations_visited"] == 2  # L1 and L3, though the only record is at L1
    assert row["location_ids"] == ["L1"]
    assert row["has_online_booking"] is False
    assert row["received_sms"] is False  # its only message failed


def test_columns_of_a_client_without_facts(con):
    row = client_row(con, E)
    assert row["client_name"] is None
    assert row["phone"] is None
    assert row["email"] is None
    assert row["gender"] == "female"
    assert row["total_spent"] == Decimal("0")
    assert row["visits"] == 0  # a no_show is not a visit
    assert row["last_visit_at"] is None
    assert row["locations_visited"] == 0
    assert row["location_ids"] == ["L3"]
    assert row["has_online_booking"] is False
    assert row["received_sms"] is False


def test_last_visit_in_local_time_of_its_location(con):
    # G's only visit: 10:00 at L2 (YEKT), shown as such, not as 05:00 UTC
    assert client_row(con, G)["last_visit_at"] == datetime(2025, 3, 5, 10, 0)


# --- audience ---------------------------------------------------------------------------


def test_audience_only_clients_with_a_phone(con):
    result = report(con, audience=True)
    phones = {B: "+79991112233", G: "+79997776655", D: "+79120000000", A: "+79123456789"}
    names = {B: "Boris Petrov", G: "Boris Petrov", D: "Dmitry Sidorov", A: "Анна Иванова"}
    # in list order; C and H are keyed by email, E has no contact at all
    assert result.section("audience").rows == [
        {"chain_client_id": cid, "client_name": names[cid], "phone": phones[cid]}
        for cid in [*BORIS, D, A]
    ]


def test_audience_follows_the_filters(con):
    result = report(con, search="example", audience=True)
    assert [row["chain_client_id"] for row in result.section("clients").rows] == [C, H, A]
    assert result.section("audience").rows == [
        {"chain_client_id": A, "client_name": "Анна Иванова", "phone": "+79123456789"}
    ]


def test_audience_only_when_asked(con):
    with pytest.raises(KeyError):
        report(con).section("audience")


# --- access and parameters --------------------------------------------------------------


def test_analyst_role_refused(con):
    with pytest.raises(ReportError):
        report(con, role="analyst")
    with pytest.raises(ReportError):
        report(con, role="analyst", audience=True)


@pytest.mark.parametrize(
    "bad",
    [
        {"gender": "x"},
        {"sort": "age"},
        {"online_booking": "maybe"},
        {"visits_min": "two"},
        {"visits_max": "1.5"},
        {"spent_min": "lots"},
        {"importance": ["platinum"]},
        {"booked_from": "2025-13-01"},
        {"sms_from": "yesterday"},
        {"not_booked_from": "2025-05-01", "not_booked_to": "2025-05-01"},  # to must be after
    ],
)
def test_bad_parameter_values_refused(con, bad):
    with pytest.raises(ReportError):
        report(con, **bad)
