"""Volunteer pages: the resident's sign-up and cancel, the staff check-in sheet and hours
review, forms with bad input, the household's ledger and the Excel export."""

import datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from volunteers.models import Activity, PointsEntry, ServiceHours, Signup, VolunteerTeam

from .factories import ActivityFactory, ServiceHoursFactory, SignupFactory

pytestmark = pytest.mark.django_db


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def form_errors(response):
    return {name: [str(e) for e in errors] for name, errors in response.context["form"].errors.items()}


# --- resident ---------------------------------------------------------------------------------------
def test_my_home_lists_what_i_can_sign_up_for(vol, resident, client_for):
    response = client_for(resident).get(reverse("volunteers:my_home"))

    assert response.status_code == 200
    titles = [a.title for a in response.context["activities"]]
    assert titles == ["楼道清洁日", "曙光小区义剪", "队员培训"]
    assert response.context["totals"] == {
        "approved_hours": Decimal("0.00"),
        "pending_hours": Decimal("0.00"),
        "points": Decimal("0.00"),
    }


def test_resident_signs_up_waits_and_is_promoted(vol, resident, resident_b, member_b, client_for):
    url = reverse("volunteers:my_signup", args=[vol.activity_a1.pk])
    client_for(resident).post(url)
    client_for(member_b).post(url)

    waiting = client_for(resident_b)
    response = waiting.post(url, follow=True)
    assert messages_of(response) == ["名额已满，您已进入候补第 1 位。有人取消时会按顺序递补并通知您。"]
    assert response.context["activity"].my_status == Signup.Status.WAITLISTED
    assert response.context["activity"].waitlist_position == 1
    assert "您在候补第 1 位" in response.content.decode()

    response = client_for(member_b).post(reverse("volunteers:my_cancel", args=[vol.activity_a1.pk]), follow=True)
    assert messages_of(response) == ["已取消报名。"]

    response = waiting.get(reverse("volunteers:my_activity", args=[vol.activity_a1.pk]))
    assert response.context["activity"].my_status == Signup.Status.CONFIRMED
    assert "您已报名" in response.content.decode()


def test_resident_sees_a_clear_message_for_a_closed_activity(vol, resident, client_for):
    activity = ActivityFactory(
        project=vol.project_a1,
        starts_at=timezone.now() + datetime.timedelta(hours=3),
        ends_at=timezone.now() + datetime.timedelta(hours=5),
        signup_deadline=timezone.now() - datetime.timedelta(hours=1),
    )
    response = client_for(resident).post(reverse("volunteers:my_signup", args=[activity.pk]), follow=True)
    assert messages_of(response) == [f"「{activity.title}」报名已截止。"]
    assert not Signup.objects.exists()


def test_signup_needs_post(vol, resident, client_for):
    assert client_for(resident).get(reverse("volunteers:my_signup", args=[vol.activity_a1.pk])).status_code == 405


def test_my_hours_shows_the_balance(vol, resident, staff_a, client_for):
    from volunteers import services

    rows = [ServiceHoursFactory(volunteer=vol.v1, project=vol.project_a1, hours=h) for h in ("1.25", "0.50")]
    services.hours_approve(hours_ids=[r.pk for r in rows], by=staff_a)

    response = client_for(resident).get(reverse("volunteers:my_hours"))

    assert response.context["totals"]["points"] == Decimal("17.50")
    assert response.context["totals"]["approved_hours"] == Decimal("1.75")
    assert len(response.context["points"]) == 2
    assert 'data-total="points">17.50<' in response.content.decode()


def test_my_teams_join_and_leave(vol, resident_b, client_for):
    client = client_for(resident_b)
    response = client.get(reverse("volunteers:my_teams"))
    assert [t.name for t in response.context["other_teams"]] == ["邻里守望志愿服务队"]

    response = client.post(reverse("volunteers:my_team_join", args=[vol.team_a1.pk]), follow=True)
    assert messages_of(response) == ["您已加入 邻里守望志愿服务队。"]
    assert [t.name for t in response.context["my_teams"]] == ["邻里守望志愿服务队"]

    response = client.post(reverse("volunteers:my_team_leave", args=[vol.team_a1.pk]), follow=True)
    assert response.context["my_teams"] == []


def test_my_building_links_to_volunteering(resident, client_for):
    response = client_for(resident).get(reverse("communities:my_building"))
    assert reverse("volunteers:my_home") in response.content.decode()


# --- staff ------------------------------------------------------------------------------------------
@pytest.fixture
def started(vol):
    starts = timezone.now() - datetime.timedelta(minutes=30)
    activity = ActivityFactory(
        project=vol.project_a1,
        team=vol.team_a1,
        title="爱心义剪",
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=1, minutes=45),
        signup_deadline=starts - datetime.timedelta(hours=1),
        capacity=3,
    )
    for volunteer in (vol.v1, vol.v2, vol.v3):
        SignupFactory(activity=activity, volunteer=volunteer)
    SignupFactory(activity=activity, volunteer=vol.v4, status=Signup.Status.WAITLISTED)
    return activity


def test_check_in_sheet_and_bulk_approval(vol, started, staff_a, client_for):
    client = client_for(staff_a)
    response = client.get(reverse("volunteers:activity", args=[started.pk]))
    assert response.context["can_check_in"] is True
    assert [s.volunteer_id for s in response.context["confirmed"]] == [vol.v1.pk, vol.v2.pk, vol.v3.pk]
    assert [s.volunteer_id for s in response.context["waiting"]] == [vol.v4.pk]

    ids = list(Signup.objects.filter(activity=started, volunteer__in=[vol.v1, vol.v2]).values_list("pk", flat=True))
    response = client.post(reverse("volunteers:activity_check_in", args=[started.pk]), {"signups": ids}, follow=True)
    assert messages_of(response) == ["已签到 2 人，服务时长已登记，待审核。"]
    hours = list(ServiceHours.objects.filter(activity=started).order_by("pk"))
    assert [h.hours for h in hours] == [Decimal("1.75"), Decimal("1.75")]

    response = client.get(reverse("volunteers:hours"))
    assert [r.pk for r in response.context["rows"]] == [h.pk for h in reversed(hours)]
    response = client.post(
        reverse("volunteers:hours_review"), {"ids": [h.pk for h in hours], "action": "approve"}, follow=True
    )
    assert messages_of(response) == ["已审核通过 2 条，共 3.50 小时，积分已发放。"]
    assert sum(p.points for p in PointsEntry.objects.all()) == Decimal("35.00")


def test_review_with_bad_input_changes_nothing(vol, staff_a, client_for):
    row = ServiceHoursFactory(volunteer=vol.v1, project=vol.project_a1)
    client = client_for(staff_a)

    response = client.post(reverse("volunteers:hours_review"), {"action": "approve"}, follow=True)
    assert messages_of(response) == ["请至少选择一条服务时长。"]
    response = client.post(reverse("volunteers:hours_review"), {"ids": ["x"], "action": "approve"}, follow=True)
    assert messages_of(response) == ["编号必须是整数。"]
    response = client.post(reverse("volunteers:hours_review"), {"ids": [row.pk], "action": "reject"}, follow=True)
    assert messages_of(response) == ["请填写未通过的原因。"]
    response = client.post(reverse("volunteers:hours_review"), {"ids": [row.pk], "action": "delete"}, follow=True)
    assert messages_of(response) == ["选择一个有效的选项。 delete 不在可用的选项中。"]
    row.refresh_from_db()
    assert row.status == ServiceHours.Status.PENDING


def test_staff_creates_an_activity_and_sees_field_errors(vol, staff_a, client_for):
    client = client_for(staff_a)
    start = (timezone.localtime() + datetime.timedelta(days=5)).replace(hour=9, minute=0, second=0, microsecond=0)
    data = {
        "project": vol.project_a1.pk,
        "title": "重阳节敬老",
        "team": vol.team_a1.pk,
        "visibility": "public",
        "place": "曙光社区党群服务中心",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "signup_deadline": (start - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "capacity": 12,
    }
    bad = {**data, "ends_at": (start - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"), "team": vol.team_a2.pk}
    response = client.post(reverse("volunteers:activity_add"), bad)
    assert response.status_code == 200
    assert form_errors(response) == {
        "team": ["选择一个有效的选项： 该选择不在可用的选项中。"],
        "ends_at": ["结束时间必须晚于开始时间。"],
    }
    assert not Activity.objects.filter(title="重阳节敬老").exists()

    response = client.post(reverse("volunteers:activity_add"), data)
    activity = Activity.objects.get(title="重阳节敬老")
    assert response.status_code == 302 and response["Location"] == activity.get_absolute_url()
    assert (activity.community_id, activity.capacity) == (vol.project_a1.community_id, 12)


def test_staff_creates_a_team_with_a_duplicate_name_error(vol, district, staff_a, client_for):
    response = client_for(staff_a).post(
        reverse("volunteers:team_add"), {"community": district.a1.community.pk, "name": "邻里守望志愿服务队"}
    )
    assert form_errors(response) == {"name": ["本社区已有同名的志愿服务队。"]}
    assert VolunteerTeam.objects.filter(name="邻里守望志愿服务队").count() == 1


def test_household_page_shows_the_services_it_received(vol, district, staff_a, staff_b, client_for):
    from volunteers.models import ServiceProject

    household = district.a1.households[3]
    meal = ServiceProject.objects.create(
        community=district.a1.community, kind=ServiceProject.Kind.MEAL_DELIVERY, name="配餐上门"
    )
    doctor = ServiceProject.objects.create(
        community=district.a1.community, kind=ServiceProject.Kind.FAMILY_DOCTOR, name="家庭医生"
    )
    rows = [
        ServiceHoursFactory(volunteer=vol.v2, project=meal, note="午餐送餐上门", hours="0.50"),
        ServiceHoursFactory(volunteer=vol.v2, project=meal, note="午餐送餐上门", hours="0.50"),
        ServiceHoursFactory(volunteer=vol.v1, project=doctor, note="随访", hours="1.00"),
        ServiceHoursFactory(volunteer=vol.v1, project=vol.project_a1, note="楼道清洁", hours="2.00"),
    ]
    for row in rows:
        row.households.set([household])
    rejected = ServiceHoursFactory(volunteer=vol.v1, project=meal, status=ServiceHours.Status.REJECTED)
    rejected.households.set([household])
    ServiceHoursFactory(volunteer=vol.v1, project=meal).households.set([district.a1.households[4]])

    client = client_for(staff_a)
    page = client.get(reverse("communities:household", args=[household.pk]))
    url = reverse("volunteers:household_services", args=[household.pk])
    assert page.context["household_sections"] == [{"key": "volunteer_services", "title": "接受的服务", "url": url}]
    assert f'hx-get="{url}"' in page.content.decode()

    response = client.get(url, headers={"HX-Request": "true"})
    section = response.context["section"]
    assert sorted(r.pk for r in section["rows"]) == sorted(r.pk for r in rows)
    assert section["total"] == 4
    assert section["counts"] == [
        ("meal_delivery", "配餐上门", 2),
        ("family_doctor", "家庭医生", 1),
        ("red_steward", "红管家", 1),
    ]
    assert response.content.decode().lstrip().startswith("<div")  # the fragment, for htmx
    assert "<html" in client.get(url).content.decode()  # a page of its own without JavaScript
    assert client_for(staff_b).get(url).status_code == 404
    assert client_for(staff_b).get(reverse("communities:household", args=[household.pk])).status_code == 404


# --- export -------------------------------------------------------------------------------------------
def read_sheet(content):
    sheet = load_workbook(BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    return rows[0], rows[1:]


def test_export_equals_hours_per_team_and_month(vol, district, staff_a, street_official_a, client_for):
    from volunteers import services

    year = timezone.localdate().year - 1  # a whole past year, so every month exists
    team = vol.team_a1
    plan = [  # (volunteer, team, month, day, hours)
        (vol.v1, team, 1, 5, "1.25"),
        (vol.v2, team, 1, 20, "2.33"),
        (vol.v1, team, 3, 1, "0.01"),
        (vol.v3, None, 3, 9, "4.50"),
        (vol.v2, team, 12, 31, "7.99"),
    ]
    rows = [
        ServiceHoursFactory(volunteer=v, project=vol.project_a1, team=t, served_on=datetime.date(year, m, d), hours=h)
        for v, t, m, d, h in plan
    ]
    ServiceHoursFactory(
        volunteer=vol.v1, project=vol.project_a1, team=team, served_on=datetime.date(year, 2, 2)
    )  # pending
    ServiceHoursFactory(
        volunteer=vol.vb1, project=vol.project_a2, team=vol.team_a2, served_on=datetime.date(year, 5, 5), hours="3.00"
    )
    services.hours_approve(hours_ids=[r.pk for r in rows], by=staff_a)
    a2 = ServiceHours.objects.get(project=vol.project_a2)
    a2.status = ServiceHours.Status.APPROVED
    a2.save(update_fields=["status"])

    response = client_for(staff_a).get(reverse("volunteers:hours_export"), {"year": year})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response["Content-Disposition"]
    header, body = read_sheet(response.content)
    assert header == ("社区", "志愿服务队", *[f"{m}月" for m in range(1, 13)], "合计")
    cells = {(r[0], r[1]): r[2:] for r in body}
    expected = {
        ("曙光社区", "（未分队）"): {3: Decimal("4.50")},
        ("曙光社区", "邻里守望志愿服务队"): {1: Decimal("3.58"), 3: Decimal("0.01"), 12: Decimal("7.99")},
    }
    assert set(cells) == set(expected) | {("合计", None)}
    for key, months in expected.items():
        values = cells[key]
        for m in range(1, 13):
            assert abs(Decimal(str(values[m - 1])) - months.get(m, Decimal(0))) < Decimal("0.005"), (key, m)
        assert abs(Decimal(str(values[12])) - sum(months.values())) < Decimal("0.005")
    # Every approved hour of A1 (and nothing pending or outside scope) is in the sheet.
    total = cells[("合计", None)][12]
    approved = sum(r.hours for r in ServiceHours.objects.filter(community=district.a1.community, status="approved"))
    assert abs(Decimal(str(total)) - approved) < Decimal("0.005")
    assert approved == Decimal("16.08")

    # The street official sees both communities of the street.
    _header, body = read_sheet(
        client_for(street_official_a).get(reverse("volunteers:hours_export"), {"year": year}).content
    )
    assert {(r[0], r[1]) for r in body} == set(expected) | {("宁国路社区", "宁国路志愿服务队"), ("合计", None)}


def test_export_for_another_community_is_404(vol, district, staff_a, client_for):
    response = client_for(staff_a).get(reverse("volunteers:hours_export"), {"community": district.a2.community.pk})
    assert response.status_code == 404
