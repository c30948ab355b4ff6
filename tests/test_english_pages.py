"""Switching to English shows no Chinese of ours (issue 15): on the demo, the staff's request
page, queue and inbox and the district dashboard, rendered in English, show Chinese only where
it is user data (places, people, what residents and staff wrote) — category names, stored
notification and timeline texts, step buttons and dates included. The pages in Chinese stay
Chinese (Chinese first)."""

import pytest
from django.db.models import Count
from django.urls import reverse

from accounts.models import User
from service_requests.models import ServiceRequest
from tests.english import chinese_of_ours, user_data_runs
from tests.signin import verified_login

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group(__name__)]


@pytest.fixture(scope="module")
def seeded(demo_module):
    return demo_module


def english(client):
    client.cookies["django_language"] = "en"
    return client


def busiest_request(user):
    """The staff member's request with the longest timeline (assignments, replies, ratings …)."""
    return ServiceRequest.objects.restrict(user).annotate(steps=Count("events")).order_by("-steps", "pk").first()


def test_staff_pages_in_english_show_no_chinese_of_ours(seeded, client):
    staff = User.objects.get(username="staff_qinghua")
    request = busiest_request(staff)
    allowed = user_data_runs()
    english(verified_login(client, staff))
    pages = {
        "request": reverse("service_requests:detail", args=[request.pk]),
        "queue": reverse("service_requests:queue"),
        "inbox": reverse("notifications:list"),
    }
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        html = response.content.decode()
        assert 'lang="en"' in html
        assert chinese_of_ours(html, allowed) == {}, name
    # Category names and the stored texts are there, in English.
    page = client.get(pages["request"]).content.decode()
    assert request.category.name_en in page
    inbox = client.get(pages["inbox"]).content.decode()
    assert "Request " in inbox or "Your request " in inbox


def test_dashboard_in_english_shows_no_chinese_of_ours(seeded, client):
    official = User.objects.get(username="district")
    allowed = user_data_runs()
    english(verified_login(client, official))
    response = client.get(reverse("dashboard:home"), follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert chinese_of_ours(html, allowed) == {}
    assert "Building party group" in html and "Functional party group" in html


def test_the_same_pages_stay_chinese_first(seeded, client):
    staff = User.objects.get(username="staff_qinghua")
    request = busiest_request(staff)
    verified_login(client, staff)
    page = client.get(reverse("service_requests:detail", args=[request.pk])).content.decode()
    assert request.category.name in page
    assert request.category.name_en not in page
