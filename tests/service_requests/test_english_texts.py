"""Stored messages are rendered in the reader's language (issue 15): a notification and a
timeline entry the portal wrote keep their source text and parameters, so the same row reads
in Chinese for one person and in English for another; category names have English names;
step buttons are verbs; read-only officials are offered no write links."""

import pytest
from django.urls import reverse
from django.utils import translation

from notifications.models import Notification
from service_requests.models import RequestEvent
from service_requests.services import request_accept, request_submit
from tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def category():
    return CategoryFactory(
        name="楼道灯", name_en="Stairwell lights", parent__name="设施维修", parent__name_en="Facility repairs"
    )


@pytest.fixture
def submitted(district, resident, staff_a, category):
    return request_submit(
        by=resident, category=category, description="3栋楼道灯坏了一周", compound=district.a1.compound
    )


def test_a_notification_reads_in_each_readers_language(submitted, staff_a):
    note = Notification.objects.get(recipient=staff_a, kind="request.submitted")
    # Stored in Chinese (what email and SMS send), and as source text + parameters.
    assert note.title == f"新诉求 {submitted.number}：设施维修 / 楼道灯"
    assert note.title_text["msgid"] == "新诉求 %(number)s：%(category)s"
    assert note.display_title == note.title
    with translation.override("en"):
        assert note.display_title == f"New request {submitted.number}: Facility repairs / Stairwell lights"


def test_old_rows_without_stored_text_show_as_written(staff_a):
    note = Notification.objects.create(recipient=staff_a, kind="x", title="旧通知", dedupe_key="old:1")
    with translation.override("en"):
        assert note.display_title == "旧通知"


def test_timeline_entries_the_portal_wrote_are_translated(submitted, resident, staff_a, client_for):
    request_accept(request=submitted, by=staff_a)
    event = RequestEvent.objects.get(request=submitted, kind=RequestEvent.Kind.SUBMITTED)
    assert event.message == submitted.get_channel_display()
    with translation.override("en"):
        assert event.display_message == str(submitted.get_channel_display())
        assert event.display_message != event.message
    client = client_for(staff_a)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("service_requests:detail", args=[submitted.pk])).content.decode()
    assert "Facility repairs / Stairwell lights" in page and "楼道灯坏了" in page  # the resident's words stay
    assert "楼道灯</" not in page and "设施维修" not in page
    # The resident's inbox in English: "accepted" in English, the number as it is.
    resident_client = client_for(resident)
    resident_client.cookies["django_language"] = "en"
    inbox = resident_client.get(reverse("notifications:list")).content.decode()
    assert f"Your request {submitted.number} has been accepted by the community." in inbox


def test_step_buttons_are_verbs_and_irreversible_ones_ask_first(submitted, staff_a, client_for):
    request_accept(request=submitted, by=staff_a)
    client = client_for(staff_a)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("service_requests:detail", args=[submitted.pk])).content.decode()
    assert ">Resolve</summary>" in page.replace('<i class="bi bi-check2-all"></i> ', "")
    assert 'data-confirm="Once resolved, the resident is asked to rate it' in page
    assert 'data-confirm="Returned, the request goes back to the street' in page
    client.cookies["django_language"] = "zh-hans"
    page = client.get(reverse("service_requests:detail", args=[submitted.pk])).content.decode()
    assert 'data-confirm="办结后将请居民评价，办结不能撤回。确定办结吗？"' in page


def test_read_only_officials_are_offered_no_write_links(
    district, staff_a, district_official, street_official_a, client_for
):
    on_behalf = f"{reverse('service_requests:new')}?on_behalf=1"
    assert on_behalf in client_for(staff_a).get(reverse("service_requests:queue")).content.decode()
    for official in (district_official, street_official_a):
        page = client_for(official).get(reverse("service_requests:queue"))
        assert page.status_code == 200
        assert on_behalf not in page.content.decode()
