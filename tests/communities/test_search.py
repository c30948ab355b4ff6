"""The registry's side of search: the building page's filters (flag, unit, search) and the
scoped autocomplete that staff forms use to pick a resident or a household."""

import re

import pytest
from django.urls import reverse

from partybuilding.forms import CentralHouseholdForm
from tests.factories import CentralHouseholdFactory, PartyBranchFactory, PartyMemberFactory

pytestmark = pytest.mark.django_db


def rooms_in(response):
    html = response.content.decode()
    table = html[html.index('data-testid="households"') :]
    return re.findall(r'<td><a href="/registry/household/\d+/">([^<]+)</a></td>', table)


def test_building_page_filters_by_flag_unit_and_search(client_for, staff_a, district):
    building = district.a1.buildings[0]
    building.units = 2
    building.save(update_fields=["units"])
    first, second, third = district.a1.households[:3]
    first.lives_alone_elderly = True
    first.save(update_fields=["lives_alone_elderly"])
    third.unit = 2
    third.save(update_fields=["unit"])
    person = second.residents.first()
    person.mobile = "13800004321"
    person.save(update_fields=["mobile"])
    url = reverse("communities:building", args=[building.pk])
    client = client_for(staff_a)
    assert rooms_in(client.get(url)) == ["1单元101室", "1单元102室", "2单元201室"]
    assert rooms_in(client.get(url, {"flag": "lives_alone_elderly"})) == ["1单元101室"]
    assert "独居老人（1）" in client.get(url).content.decode()
    assert rooms_in(client.get(url, {"unit": "2"})) == ["2单元201室"]
    assert rooms_in(client.get(url, {"q": "102"})) == ["1单元102室"]
    assert rooms_in(client.get(url, {"q": "4321"})) == ["1单元102室"]
    assert rooms_in(client.get(url, {"q": person.name})) == ["1单元102室"]
    # Bad values are ignored with a notice, never a 500.
    for params in ({"flag": "x"}, {"unit": "²"}, {"unit": "-1"}, {"q": "\x00"}):
        response = client.get(url, params)
        assert response.status_code == 200, params


def test_autocomplete_finds_only_rows_the_user_may_change(client_for, staff_a, staff_b, district, district_official):
    target = district.a1.residents[0]
    url = reverse("communities:autocomplete", args=["residents"])
    answer = client_for(staff_a).get(url, {"q": target.name}).json()
    assert [r["value"] for r in answer["results"]] == [target.pk]
    assert "****" in answer["results"][0]["text"]  # the mobile masked
    assert client_for(staff_b).get(url, {"q": target.name}).json() == {"results": []}
    assert client_for(district_official).get(url, {"q": target.name}).json() == {"results": []}
    households = reverse("communities:autocomplete", args=["households"])
    answer = client_for(staff_a).get(households, {"q": "2栋 201"}).json()
    assert [r["value"] for r in answer["results"]] == [district.a1.households[5].pk]
    answer = client_for(staff_a).get(households, {"q": "201", "community": district.a2.community.pk}).json()
    assert answer == {"results": []}
    assert client_for(staff_a).get(reverse("communities:autocomplete", args=["users"]), {"q": "x"}).status_code == 404
    assert client_for(staff_a).get(url, {"q": "\x00", "community": "²"}).status_code == 200


def test_central_household_form_renders_only_the_chosen_households(staff_a, district):
    branch = PartyBranchFactory(community=district.a1.community, compounds=[district.a1.compound])
    member = PartyMemberFactory(resident=district.a1.residents[0], branch=branch)
    served = district.a1.households[3]
    central = CentralHouseholdFactory(member=member, served_households=[served])
    form = CentralHouseholdForm(instance=central, user=staff_a)
    html = str(form["served_households"])
    assert f'data-autocomplete="/registry/autocomplete/households/?community={district.a1.community.pk}"' in html
    assert html.count("<option") == 1 and f'value="{served.pk}" selected' in html
    # The field still validates against its scoped queryset: another community's household is refused.
    form = CentralHouseholdForm(
        instance=central,
        user=staff_a,
        data={"member": member.pk, "served_households": [district.b1.households[0].pk]},
    )
    assert not form.is_valid()
    assert "served_households" in form.errors
