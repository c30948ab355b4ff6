"""One timeline per household (``communities.timeline``): its requests, visits, services received
and notices confirmed, newest first, in the viewer's scope, at a pinned number of queries."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from notices.models import Notice, Receipt
from notices.services import notice_publish
from service_requests import services as request_services
from service_requests.models import Category, ServiceRequest
from tests.volunteers.factories import ServiceHoursFactory, ServiceProjectFactory, VolunteerFactory
from visits.models import Purpose, Visit

pytestmark = pytest.mark.django_db


def kinds_in(response):
    import re

    return re.findall(r'<li class="list-group-item d-flex gap-3" data-kind="([a-z]+)">', response.content.decode())


def history(household, staff, *, rows=1):
    """``rows`` of each kind for ``household``, at known times: services the oldest (days ago),
    then the visits, the notices and the requests the newest."""
    now = timezone.now()
    category = Category.objects.create(name="漏水", code=f"leak-{household.pk}")
    project = ServiceProjectFactory(community=household.community, name=f"配餐上门{household.pk}")
    volunteer = VolunteerFactory(resident=household.residents.first())
    for i in range(rows):
        hours = ServiceHoursFactory(
            volunteer=volunteer, project=project, served_on=timezone.localdate() - datetime.timedelta(days=10 + i)
        )
        hours.households.set([household])
        Visit.objects.create(
            household=household,
            visitor=staff,
            visitor_label="网格员",
            visited_at=now - datetime.timedelta(days=5, hours=i),
            purpose=Purpose.choices[0][0],
            notes="身体好",
        )
        notice = notice_publish(
            by=staff,
            community=household.community,
            audience=Notice.Audience.BUILDING,
            building=household.building,
            compound=household.compound,
            title=f"停水通知{i}",
            body="明天停水",
            requires_confirmation=True,
        )
        Receipt.objects.filter(notice=notice, household=household).update(
            confirmed_at=now - datetime.timedelta(days=2, hours=i)
        )
        request_services.request_submit(
            by=staff,
            category=category,
            description=f"厨房漏水{i}",
            compound=household.compound,
            building=household.building,
            household=household,
            channel=ServiceRequest.Channel.PHONE,
        )


def test_household_timeline_newest_first_in_scope(district, staff_a, staff_b, client_for):
    household = district.a1.households[0]
    history(household, staff_a)
    history(district.a1.households[1], staff_a)  # a neighbour's history is not this household's
    client = client_for(staff_a)
    page = client.get(reverse("communities:household", args=[household.pk]))
    url = reverse("communities:household_timeline", args=[household.pk])
    assert f'hx-get="{url}"' in page.content.decode()
    response = client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert kinds_in(response) == ["request", "notice", "visit", "service"]
    html = response.content.decode()
    assert "厨房漏水0" in html and "停水通知0" in html and "配餐上门" in html and "网格员" in html
    assert "<html" not in html  # the fragment, for htmx
    assert "<html" in client.get(url).content.decode()  # a page of its own without JavaScript
    # Another community's staff: 404, as for a household that does not exist.
    assert client_for(staff_b).get(url).status_code == 404


@pytest.mark.parametrize("rows", [2, 20])
def test_household_timeline_queries_are_flat(district, staff_a, client_for, django_assert_max_num_queries, rows):
    household = district.a1.households[0]
    history(household, staff_a, rows=rows)
    client = client_for(staff_a)
    url = reverse("communities:household_timeline", args=[household.pk])
    # session + user + scope roles + the second-factor device + household + one per kind (4)
    with django_assert_max_num_queries(10):
        response = client.get(url, headers={"HX-Request": "true"})
    assert len(kinds_in(response)) == min(rows * 4, 50)  # the newest 50 (TIMELINE_LIMIT)
