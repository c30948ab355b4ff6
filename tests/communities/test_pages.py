"""The registry pages as the people who use them see them: totals at each level, where each
persona lands, editing a household, personal data shown in full (and audited) or masked, and
the resident's own "my building" page."""

import re
from html import unescape

import pytest
from django.urls import reverse

from accounts.models import Role
from baohe.models import AuditEntry
from communities.models import Household
from tests.factories import RoleFactory, UserFactory

pytestmark = pytest.mark.django_db

REGISTRY_COUNTERS = ("community", "compound", "building", "household", "resident")


def stat_cards(response):
    """The ``data-count`` stat cards of a level page as {counter key: number}."""
    html = response.content.decode()
    return {key: int(value.replace(",", "")) for key, value in re.findall(r'data-count="(\w+)">([\d,]+)<', html)}


def registry_cards(response):
    cards = stat_cards(response)
    return {key: cards[key] for key in REGISTRY_COUNTERS if key in cards}


def child_rows(response, prefix):
    """The child table: {child name: [registry counts in column order]} for links under ``prefix``."""
    html = response.content.decode()
    rows = {}
    for name, cells in re.findall(
        rf'<tr>\s*<td><a href="{re.escape(prefix)}\d+/">([^<]+)</a>.*?</td>(.*?)</tr>', html, flags=re.S
    ):
        rows[unescape(name)] = [int(v.replace(",", "")) for v in re.findall(r'<td class="num">([\d,]+)</td>', cells)]
    return rows


def text_of_testid(response, testid):
    html = response.content.decode()
    return [unescape(t).strip() for t in re.findall(rf'data-testid="{testid}">([^<]*)<', html)]


# --- level pages ---------------------------------------------------------------------------------
def test_district_page_shows_the_district_totals(district, district_official, client_for):
    response = client_for(district_official).get(reverse("communities:district", args=[district.district.pk]))

    assert response.status_code == 200
    assert registry_cards(response) == {
        "community": 3,
        "compound": 3,
        "building": 6,
        "household": 18,
        "resident": 36,
    }
    html = response.content.decode()
    assert "下辖街道（2）" in html and "partial-label" not in html
    rows = child_rows(response, "/registry/street/")
    assert {name: counts[:5] for name, counts in rows.items()} == {
        "芜湖路街道": [2, 2, 4, 12, 24],
        "望湖城街道": [1, 1, 2, 6, 12],
    }


def test_district_page_of_a_street_official_is_titled_with_their_street(district, street_official_a, client_for):
    html = client_for(street_official_a).get(f"/registry/district/{district.district.pk}/").content.decode()
    assert '<span data-testid="partial-label">芜湖路街道</span>' in html
    assert "仅统计您辖区（芜湖路街道）的数据" in html
    whole = client_for(street_official_a)
    assert "partial-label" not in whole.get(f"/registry/street/{district.street_a.pk}/").content.decode()


def test_street_page_for_the_street_official(district, street_official_a, client_for):
    response = client_for(street_official_a).get(reverse("communities:street", args=[district.street_a.pk]))

    assert response.status_code == 200
    assert registry_cards(response) == {"compound": 2, "building": 4, "household": 12, "resident": 24}
    rows = child_rows(response, "/registry/community/")
    assert {name: counts[:4] for name, counts in rows.items()} == {
        "曙光社区": [1, 2, 6, 12],
        "宁国路社区": [1, 2, 6, 12],
    }


def test_community_and_compound_pages_for_staff_a(district, staff_a, client_for):
    client = client_for(staff_a)
    a1 = district.a1

    community = client.get(reverse("communities:community", args=[a1.community.pk]))
    assert registry_cards(community) == {"building": 2, "household": 6, "resident": 12}
    assert {name: c[:3] for name, c in child_rows(community, "/registry/compound/").items()} == {"曙光小区": [2, 6, 12]}
    # staff of A1 may add a compound here
    assert reverse("communities:compound_add", args=[a1.community.pk]) in community.content.decode()

    compound = client.get(reverse("communities:compound", args=[a1.compound.pk]))
    assert registry_cards(compound) == {"household": 6, "resident": 12}
    assert {name: c[:2] for name, c in child_rows(compound, "/registry/building/").items()} == {
        "1栋": [3, 6],
        "2栋": [3, 6],
    }


def test_street_staff_of_a2_sees_street_a_without_a1_numbers(district, staff_b, client_for):
    """Staff of A2 may open their street page; its numbers count only what they may see."""
    response = client_for(staff_b).get(reverse("communities:street", args=[district.street_a.pk]))

    assert response.status_code == 200
    assert registry_cards(response) == {"compound": 1, "building": 2, "household": 6, "resident": 12}
    assert list(child_rows(response, "/registry/community/")) == ["宁国路社区"]


def test_official_sees_no_add_or_edit_buttons(district, district_official, client_for):
    compound = district.a1.compound

    html = client_for(district_official).get(reverse("communities:compound", args=[compound.pk])).content.decode()

    assert reverse("communities:building_add", args=[compound.pk]) not in html
    assert reverse("communities:compound_edit", args=[compound.pk]) not in html


# --- where each persona lands ------------------------------------------------------------------
def test_staff_a_registry_home_redirects_to_their_community(district, staff_a, client_for):
    assert client_for(staff_a).get("/").url == "/todo/"  # the landing after login: 我的待办
    response = client_for(staff_a).get("/registry/", follow=True)

    assert response.redirect_chain == [(f"/registry/community/{district.a1.community.pk}/", 302)]
    assert response.status_code == 200
    assert response.context["object"] == district.a1.community


@pytest.mark.parametrize(
    ("persona", "landing"),
    [
        ("street_official_a", lambda d: f"/registry/street/{d.street_a.pk}/"),
        ("district_official", lambda d: f"/registry/district/{d.district.pk}/"),
        ("resident", lambda d: "/registry/my-building/"),
    ],
)
def test_each_persona_lands_on_their_level(persona, landing, district, request, client_for):
    user = request.getfixturevalue(persona)
    if persona != "resident":
        assert client_for(user).get("/").url == "/todo/"  # the landing after login: 我的待办

    response = client_for(user).get("/registry/", follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1] == (landing(district), 302)


# --- editing a household through the page --------------------------------------------------------
def test_staff_a_edits_household_flags_through_the_page(district, staff_a, client_for):
    household = district.a1.households[0]
    client = client_for(staff_a)
    url = reverse("communities:household_edit", args=[household.pk])

    response = client.post(
        url,
        {
            "building": household.building_id,
            "unit": 1,
            "room": household.room,
            "lives_alone_elderly": "on",
            "elderly": "on",
            "note": "独居，每周走访",
        },
    )

    assert response.status_code == 302
    assert response.url == reverse("communities:household", args=[household.pk])
    household.refresh_from_db()
    assert [name for name in Household.FLAG_FIELDS if getattr(household, name)] == ["lives_alone_elderly", "elderly"]
    assert household.note == "独居，每周走访"
    assert (household.street_id, household.community_id, household.compound_id) == (
        district.street_a.pk,
        district.a1.community.pk,
        district.a1.compound.pk,
    )

    page = client.get(response.url).content.decode()
    assert "已保存住户 1栋 1单元101室。" in page
    assert re.findall(r'<span class="badge text-bg-warning">([^<]+)</span>', page) == ["独居老人", "高龄"]
    assert "独居，每周走访" in page


def test_unchecked_flags_are_cleared(district, staff_a, client_for):
    household = district.a1.households[1]
    household.disabled = True
    household.save(update_fields=["disabled"])

    response = client_for(staff_a).post(
        reverse("communities:household_edit", args=[household.pk]),
        {"building": household.building_id, "unit": 1, "room": household.room},
    )

    assert response.status_code == 302
    household.refresh_from_db()
    assert household.disabled is False


# --- personal data: masked on the page for everyone (the reveal: tests/communities/test_reveal.py) ---
@pytest.mark.parametrize("who", ["staff_a", "street_official_a"])
def test_resident_detail_is_masked_and_reading_it_is_not_audited(request, who, district, client_for):
    record = district.a1.residents[0]

    response = client_for(request.getfixturevalue(who)).get(reverse("communities:resident", args=[record.pk]))

    assert response.status_code == 200
    assert text_of_testid(response, "mobile") == [f"{record.mobile[:3]}****{record.mobile[-4:]}"]
    assert text_of_testid(response, "id-number") == [f"{record.id_number[:4]}{'*' * 10}{record.id_number[-4:]}"]
    html = response.content.decode()
    assert record.mobile not in html
    assert record.id_number not in html
    assert AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN).count() == 0
    assert ('data-testid="reveal-form"' in html) is (who == "staff_a")


# --- the resident's "my building" page --------------------------------------------------------
def test_my_building_shows_compound_building_and_masked_head(district, resident, client_for):
    building = district.a1.buildings[0]
    head = district.a1.residents[2]  # lives in building 1, household 2
    building.head = head
    building.save(update_fields=["head"])

    response = client_for(resident).get("/registry/my-building/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "曙光小区 · 1栋" in html
    assert "曙光社区 · 1单元101室" in html
    assert text_of_testid(response, "server-mobile") == [f"{head.mobile[:3]}****{head.mobile[-4:]}"]
    assert head.name in html
    assert "楼栋长" in html
    assert head.mobile not in html


def test_my_building_without_a_head_says_so(district, resident, client_for):
    response = client_for(resident).get("/registry/my-building/")

    assert response.status_code == 200
    assert "本楼栋暂未登记楼栋长、党小组长或党员中心户。" in response.content.decode()
    assert text_of_testid(response, "server-mobile") == []


def test_my_building_for_a_resident_without_a_household_explains_why(district, client_for):
    user = UserFactory(username="13900009999", mobile="13900009999", name="新居民")
    RoleFactory(user=user, kind=Role.Kind.RESIDENT, community=district.a1.community)

    response = client_for(user).get("/registry/my-building/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "您的手机号尚未与社区登记的住户关联。" in html
    assert 'data-testid="my-household"' not in html


def test_my_building_requires_login(client):
    response = client.get("/registry/my-building/")

    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/registry/my-building/"
