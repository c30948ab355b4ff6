"""The demo tells officials the truth (issue 15): 解决率 and 满意率 differ (ratings are not
paired with resolution), every notification names the request its link opens, and the
dashboards count 489 楼栋党小组 and 2 功能型党小组 apart."""

import re

import pytest
from django.db.models import Count, Q
from django.urls import resolve, reverse

from accounts.models import User
from notifications.models import Notification
from service_requests.kpis import SATISFIED
from service_requests.models import ServiceRequest
from tests.signin import verified_login

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group(__name__)]
NUMBER = re.compile(r"BH-\d{8}-\d{4,}")


@pytest.fixture(scope="module")
def seeded(demo_module):
    return demo_module


COUNTS = {
    "rated": Count("pk"),
    "solved": Count("pk", filter=Q(solved=ServiceRequest.Solved.SOLVED)),
    "satisfied": Count("pk", filter=Q(satisfaction__in=SATISFIED)),
}


def rates(group_by):
    return list(ServiceRequest.objects.filter(rated_at__isnull=False).values(group_by).annotate(**COUNTS))


def test_resolution_and_satisfaction_rates_differ_at_every_level(seeded):
    district = ServiceRequest.objects.filter(rated_at__isnull=False).aggregate(**COUNTS)
    assert district["rated"] > 100
    assert district["solved"] < district["satisfied"]
    streets = rates("street_id")
    assert len(streets) >= 2
    for street in streets:
        assert street["solved"] != street["satisfied"], street
    communities = rates("community_id")
    assert len(communities) >= 4
    for community in communities:
        assert community["solved"] != community["satisfied"], community
    for compound in rates("compound_id"):
        assert compound["solved"] != compound["satisfied"], compound


def test_every_notification_names_the_request_its_link_opens(seeded):
    checked = 0
    numbers = dict(ServiceRequest.objects.values_list("pk", "number"))
    for note in Notification.objects.exclude(link="").only("title", "body", "link"):
        match = resolve(note.link.split("#")[0])
        if match.url_name != "detail" or match.namespace != "service_requests":
            continue
        named = set(NUMBER.findall(note.title))
        if not named:
            continue
        assert numbers[int(match.kwargs["pk"])] in named, (note.title, note.link)
        checked += 1
    assert checked > 100


def test_dashboards_count_building_and_functional_party_groups_apart(seeded, client):
    verified_login(client, User.objects.get(username="district"))
    html = client.get(reverse("dashboard:home"), follow=True).content.decode()
    assert re.search(r"楼栋党小组</[^>]+>.{0,400}?>489<", html, re.S), "489 楼栋党小组"
    assert re.search(r"功能型党小组</[^>]+>.{0,400}?>2<", html, re.S), "2 功能型党小组"
