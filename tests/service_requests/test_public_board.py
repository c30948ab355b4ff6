"""Anything public about a request is anonymised (ARCHITECTURE rule 5), over every demo request.

The compound board of 清华园小区 (小区公示, read by the demo resident of 和谐5栋) and the Open311
feed (JSON and XML, every demo request by number) show no name the request holds (its contact,
the residents of its household), no unit or room, and no run of 11 digits.
"""

import json
import re
from xml.etree import ElementTree as ET  # noqa: S405 — parsing our own answer in a test

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.seed.demo import DEMO_RESIDENT_USERNAME
from communities.models import Compound, Resident
from service_requests.models import ServiceRequest

pytestmark = pytest.mark.django_db(transaction=True)

UNIT_OR_ROOM = re.compile(r"[0-9]+\s*(?:单元|室)|(?<![0-9])[0-9]{1,2}-[0-9]{3,4}(?![0-9])")
ELEVEN_DIGITS = re.compile(r"[0-9]{11}")


def names_by_request(requests):
    """request pk -> the names it holds: its contact and the residents of its household."""
    residents = {}
    for household_id, name in Resident.objects.filter(
        household_id__in=[r.household_id for r in requests if r.household_id]
    ).values_list("household_id", "name"):
        residents.setdefault(household_id, []).append(name)
    return {r.pk: {n for n in [r.contact_name, *residents.get(r.household_id, [])] if n} for r in requests}


def assert_anonymous(text, requests, where):
    assert not ELEVEN_DIGITS.search(text), (where, ELEVEN_DIGITS.search(text).group())
    found = UNIT_OR_ROOM.search(text)
    assert found is None, (where, found and text[max(0, found.start() - 40) : found.end() + 20])
    for pk, names in names_by_request(requests).items():
        for name in names:
            assert name not in text, (where, pk, name)


def test_the_board_and_the_open311_feed_are_anonymous_for_every_demo_request(demo, client_for, client):
    compound = Compound.objects.get(name="清华园小区")
    requests = list(ServiceRequest.objects.select_related("household").order_by("pk"))
    on_board = [r for r in requests if r.compound_id == compound.pk]
    assert len(on_board) >= 50  # the demo's busiest compound
    # The descriptions do hold units and rooms, and the requests names: there is something to hide.
    assert sum(bool(UNIT_OR_ROOM.search(r.description)) for r in on_board) >= 10

    reader = client_for(User.objects.get(username=DEMO_RESIDENT_USERNAME))
    board_url = reverse("service_requests:board", args=[compound.pk])
    pages, numbers = [], set()
    page = 1
    while True:
        response = reader.get(board_url, {"page": page})
        assert response.status_code == 200
        body = response.content.decode()
        pages.append(body[body.index('data-testid="board"') : body.index("</main>")])  # not the reader's own name
        numbers.update(re.findall(r'class="list-group-item board-item" id="r[0-9]+" data-number="([^"]+)"', body))
        if f"page={page + 1}" not in body:
            break
        page += 1
    personal = {r.number for r in on_board if r.category.parent and r.category.parent.code == "personal-info"}
    assert numbers == {r.number for r in on_board} - personal  # every request of the compound, once
    assert_anonymous("".join(pages), on_board, "board")

    ids = ",".join(r.number for r in requests)
    json_rows = client.get("/open311/v2/requests.json", {"service_request_id": ids})
    assert json_rows.status_code == 200
    rows = json_rows.json()
    assert len(rows) == len(requests) - ServiceRequest.objects.filter(category__parent__code="personal-info").count()
    assert {row["address"] for row in rows} <= set(Compound.objects.values_list("name", flat=True))
    assert_anonymous(json.dumps(rows, ensure_ascii=False), requests, "open311.json")

    xml_rows = client.get("/open311/v2/requests.xml", {"service_request_id": ids})
    assert xml_rows.status_code == 200
    text = "".join(ET.fromstring(xml_rows.content).itertext())  # noqa: S314 — our own answer
    assert len(ET.fromstring(xml_rows.content)) == len(rows)  # noqa: S314
    assert_anonymous(text, requests, "open311.xml")
