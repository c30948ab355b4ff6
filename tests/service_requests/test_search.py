"""Search (``communities/search.py``, ``service_requests/search.py``): the top bar's results page
and the queue's ``q`` and ``sort``, each finding the right rows inside the user's scope and
nothing outside it."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from communities.search import parse
from service_requests import selectors, services
from service_requests.models import Category, ServiceRequest
from tests.factories import BuildingFactory, HouseholdFactory, ResidentFactory

pytestmark = pytest.mark.django_db


def numbers_in(response):
    return re.findall(r'<tr data-number="([^"]+)"', response.content.decode())


def group(response, key):
    """The links of one kind of result on the search page."""
    html = response.content.decode()
    match = re.search(rf'data-testid="search-group-{key}">(.*?)</section>', html, re.S)
    return re.findall(r'<a class="fw-semibold text-decoration-none" href="([^"]+)">', match.group(1)) if match else []


@pytest.fixture
def leak(db):
    return Category.objects.create(name="漏水", code="leak", accept_within_hours=24, resolve_within_days=5)


@pytest.fixture
def light(db):
    return Category.objects.create(name="楼道灯", code="light", accept_within_hours=24, resolve_within_days=5)


def submit(tree, category, by, *, building=None, description, address=""):
    return services.request_submit(
        by=by,
        category=category,
        description=description,
        compound=tree.compound,
        building=building,
        address=address,
        channel=ServiceRequest.Channel.PHONE,
    )


@pytest.fixture
def five(district, staff_a, staff_other_street, leak, light):
    """Building 5 in A1 and in B1 (another street), each with a leak, plus rows that match one
    word only."""
    a5 = BuildingFactory(compound=district.a1.compound, number="5", name="和谐5栋")
    b5 = BuildingFactory(compound=district.b1.compound, number="5")
    return {
        "a5_leak": submit(district.a1, light, staff_a, building=a5, description="卫生间天花板漏水，滴到楼下"),
        "a5_light": submit(district.a1, light, staff_a, building=a5, description="楼道灯不亮"),
        "a1_leak": submit(district.a1, leak, staff_a, building=district.a1.buildings[0], description="水管坏了"),
        "a1_text": submit(district.a1, light, staff_a, description="5栋门口漏水结冰", address="5栋东侧"),
        "b5_leak": submit(district.b1, leak, staff_other_street, building=b5, description="屋顶漏水"),
        "a5": a5,
    }


def test_parse_reads_what_each_word_can_mean():
    words = parse("5栋  2单元，301 BH-20261207-0001 5678 漏水")
    assert [(w.building, w.unit, w.room, w.tail, w.number) for w in words] == [
        ("5", None, "", "", ""),
        ("", 2, "", "", ""),
        ("", None, "301", "", ""),
        ("", None, "", "", "BH-20261207-0001"),
        ("", None, "5678", "5678", ""),
    ]
    assert len(parse("一 二 三 四 五 六 七")) == 5


def test_queue_search_5_building_leak_finds_the_rows_in_scope_only(client_for, staff_a, five):
    client = client_for(staff_a)
    response = client.get(reverse("service_requests:queue"), {"q": "5栋 漏水"})
    assert response.status_code == 200
    # In building 5 and about a leak (by text or category); the text "5栋 … 漏水" too; never B1's.
    assert sorted(numbers_in(response)) == sorted([five["a5_leak"].number, five["a1_text"].number])
    # The pills count inside the search.
    assert re.search(r'data-count="status-all">2<', response.content.decode())


def test_top_bar_search_groups_requests_residents_and_households(client_for, staff_a, five, district):
    a5_home = HouseholdFactory(building=five["a5"], unit=2, room="301", lives_alone_elderly=True)
    ResidentFactory(household=a5_home, name="漏水阿姨")
    client = client_for(staff_a)
    response = client.get(reverse("communities:search"), {"q": "5栋 漏水"})
    assert response.status_code == 200
    assert sorted(group(response, "requests")) == sorted(
        [five["a5_leak"].get_absolute_url(), five["a1_text"].get_absolute_url()]
    )
    assert group(response, "households") == []  # "漏水" is no place
    assert group(response, "residents") == [a5_home.residents.get().get_absolute_url()]
    response = client.get(reverse("communities:search"), {"q": "5栋 2单元 301"})
    assert group(response, "households") == [a5_home.get_absolute_url()]
    assert group(response, "requests") == []


def test_search_by_request_number_finds_that_request_in_scope_only(
    client_for, staff_a, staff_other_street, five, district_official
):
    mine, theirs = five["a5_leak"], five["b5_leak"]
    for query in (mine.number, mine.number.lower(), mine.number.replace("-", "")):
        response = client_for(staff_a).get(reverse("communities:search"), {"q": query})
        assert group(response, "requests") == [mine.get_absolute_url()], query
    # Another street's number: nothing, exactly as for a number that does not exist.
    response = client_for(staff_a).get(reverse("communities:search"), {"q": theirs.number})
    assert 'data-testid="search-empty"' in response.content.decode()
    response = client_for(staff_a).get(reverse("service_requests:queue"), {"q": theirs.number})
    assert numbers_in(response) == []
    # Its own community finds it; the district official too.
    response = client_for(staff_other_street).get(reverse("service_requests:queue"), {"q": theirs.number})
    assert numbers_in(response) == [theirs.number]
    response = client_for(district_official).get(reverse("communities:search"), {"q": theirs.number})
    assert group(response, "requests") == [theirs.get_absolute_url()]


def test_search_by_the_last_4_digits_of_a_mobile(client_for, staff_a, staff_b, district):
    mine = district.a1.residents[3]
    other = district.a2.residents[0]
    mine.mobile, other.mobile = "13812345678", "13987655678"  # the same last 4 digits
    mine.save(update_fields=["mobile"])
    other.save(update_fields=["mobile"])
    response = client_for(staff_a).get(reverse("communities:search"), {"q": "5678"})
    assert group(response, "residents") == [mine.get_absolute_url()]
    assert "138****5678" in response.content.decode()
    assert "13812345678" not in response.content.decode()
    response = client_for(staff_b).get(reverse("communities:search"), {"q": "5678"})
    assert group(response, "residents") == [other.get_absolute_url()]
    # The digits are never stored in clear: only a keyed index of them.
    mine.refresh_from_db()
    assert mine.mobile_tail_index and "5678" not in mine.mobile_tail_index
    # A new number moves the tail with it.
    mine.mobile = "13812340000"
    mine.save(update_fields=["mobile"])
    response = client_for(staff_a).get(reverse("communities:search"), {"q": "5678"})
    assert group(response, "residents") == []


def test_search_by_name_and_room_in_scope_only(client_for, staff_a, district):
    target = district.a1.residents[0]
    outside = district.b1.residents[0]
    outside.name = target.name
    outside.save(update_fields=["name"])
    client = client_for(staff_a)
    response = client.get(reverse("communities:search"), {"q": target.name[1:]})
    assert target.get_absolute_url() in group(response, "residents")
    assert outside.get_absolute_url() not in group(response, "residents")
    response = client.get(reverse("communities:search"), {"q": "1栋 102"})
    household = district.a1.households[1]
    assert group(response, "households") == [household.get_absolute_url()]
    assert sorted(group(response, "residents")) == sorted(r.get_absolute_url() for r in household.residents.all())


def test_queue_sort_choices_and_their_pages(client_for, staff_a, district, light, monkeypatch):
    rows = [submit(district.a1, light, staff_a, description=f"第{i}件") for i in range(5)]
    now = timezone.now()
    for i, row in enumerate(rows):
        ServiceRequest.objects.filter(pk=row.pk).update(created_at=now - timedelta(hours=i))
    client = client_for(staff_a)
    newest = [row.number for row in rows]
    response = client.get(reverse("service_requests:queue"), {"sort": "newest"})
    assert numbers_in(response) == newest
    response = client.get(reverse("service_requests:queue"), {"sort": "oldest"})
    assert numbers_in(response) == newest[::-1]
    # Pages of 2 walk every row once in that order, the search and the sort kept.
    monkeypatch.setattr(selectors, "QUEUE_PAGE_SIZE", 2)
    response = client.get(reverse("service_requests:queue"), {"sort": "newest", "q": "件"})
    seen = numbers_in(response)
    while match := re.search(r'href="([^"]+)" rel="next"', response.content.decode()):
        assert "sort=newest" in match.group(1)
        response = client.get(reverse("service_requests:queue") + match.group(1).replace("&amp;", "&"))
        seen += numbers_in(response)
    assert seen == newest
    # A sort that is not a choice is ignored with a notice, never a 500.
    response = client.get(reverse("service_requests:queue"), {"sort": "drop table"})
    assert response.status_code == 200
    assert numbers_in(response) == [row.number for row in rows][:2]  # the most urgent first: due alike, by id


def test_search_is_for_staff_and_bad_input_is_harmless(client, client_for, resident, staff_a):
    assert client.get(reverse("communities:search"), {"q": "x"}).status_code == 302
    assert client_for(resident).get(reverse("communities:search"), {"q": "x"}).status_code == 403
    staff = client_for(staff_a)
    for query in ("\x00", "%", "_", "'", "x" * 500, "栋", "单元", "BH-"):
        response = staff.get(reverse("communities:search"), {"q": query})
        assert response.status_code == 200, query
        response = staff.get(reverse("service_requests:queue"), {"q": query})
        assert response.status_code == 200, query


@pytest.mark.parametrize("rows", [2, 20])
def test_search_page_queries_are_flat(client_for, staff_a, district, light, django_assert_max_num_queries, rows):
    building = district.a1.buildings[0]
    for i in range(rows):
        submit(district.a1, light, staff_a, building=building, description=f"漏水 {i}")
        ResidentFactory(household=district.a1.households[0], name=f"漏水{i}")
    client = client_for(staff_a)
    # session, user, roles, device + places (3) + requests + the place word's households + residents
    # + households
    with django_assert_max_num_queries(12):
        response = client.get(reverse("communities:search"), {"q": "1栋 漏水"})
    assert len(group(response, "requests")) == rows
    assert len(group(response, "residents")) == rows


def test_api_queue_takes_the_same_search(api_client_for, staff_a, five):
    client = api_client_for(staff_a)
    response = client.get("/api/v1/requests/", {"q": "5栋 漏水"})
    assert response.status_code == 200, response.content
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    assert sorted(row["number"] for row in rows) == sorted([five["a5_leak"].number, five["a1_text"].number])
    response = client.get("/api/v1/requests/", {"q": five["b5_leak"].number})
    body = response.json()
    assert (body["results"] if isinstance(body, dict) else body) == []
    assert client.get("/api/v1/requests/", {"q": "\x00"}).status_code == 400
