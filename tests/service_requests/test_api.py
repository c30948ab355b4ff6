"""Request API: scope on every endpoint, the workflow through the step endpoints, 409/403/400
answers that change nothing, exact filter and count results, flat query counts."""

import io
from datetime import datetime, time, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import Role
from service_requests import services
from service_requests.models import Attachment, RequestEvent, ServiceRequest
from tests.factories import CategoryFactory, RoleFactory, ServiceRequestFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = ServiceRequest.Status


# --- fixtures and helpers --------------------------------------------------------------------
@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def category(db):
    top = CategoryFactory(parent=None, name="市容环境", code="env")
    return CategoryFactory(parent=top, name="楼道照明", code="hallway-light", accept_within_hours=24)


@pytest.fixture
def street_staff_a(district):
    user = UserFactory(username="street_staff_a", name="芜湖路街道工作人员")
    RoleFactory(user=user, kind=Role.Kind.STAFF, street=district.street_a, community=None)
    return user


def png(name="photo.png", size=(8, 8)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def submit(by, compound, category, **kwargs):
    kwargs.setdefault("description", "3栋楼道灯不亮")
    if by.is_portal_staff:
        kwargs.setdefault("channel", ServiceRequest.Channel.PHONE)
    return services.request_submit(by=by, category=category, compound=compound, **kwargs)


def url(name, pk=None):
    return reverse(name, args=[pk] if pk is not None else [])


def step(pk, name):
    return reverse(f"request-{name}", args=[pk])


def ids(response):
    return [row["id"] for row in response.json()["results"]]


def snapshot(request):
    return (
        ServiceRequest.objects.filter(pk=request.pk).values().get(),
        list(RequestEvent.objects.filter(request=request).values_list("pk", flat=True)),
        list(Attachment.objects.filter(request=request).values_list("pk", flat=True)),
    )


def local_today_at(hour, minute=0, second=0):
    return timezone.make_aware(datetime.combine(timezone.localdate(), time(hour, minute, second)))


# --- scope -----------------------------------------------------------------------------------
def test_staff_list_shows_exactly_their_community(district, resident, staff_a, staff_b, category, api_client_for):
    a1_own = submit(resident, district.a1.compound, category)
    a1_phone = submit(staff_a, district.a1.compound, category)
    a2 = submit(staff_b, district.a2.compound, category)

    response = api_client_for(staff_a).get(url("request-list"))

    assert response.status_code == 200
    assert sorted(ids(response)) == sorted([a1_own.pk, a1_phone.pk])
    assert ids(api_client_for(staff_b).get(url("request-list"))) == [a2.pk]


STEP_PAYLOADS = {
    "accept": {},
    "assign": {"assignee_kind": "staff", "label": "物业"},
    "reply": {"message": "已联系物业"},
    "extension": {"until": "2099-01-01T00:00:00+08:00", "reason": "需要采购灯具"},
    "extension-decide": {"approve": True, "note": "同意"},
    "return": {"reason": "不属于本社区"},
    "reroute": {"compound": None},
    "resolve": {"message": "已更换灯泡"},
    "reject": {"reason": "不属于受理范围"},
    "duplicate": {"original": None},
    "close": {"note": "回访满意"},
    "rate": {"solved": "solved", "satisfaction": "satisfied"},
    "follow-up": {"solved": "solved", "satisfaction": "satisfied"},
}


def test_other_community_gets_404_on_every_endpoint_and_nothing_changes(
    district, resident, staff_a, staff_b, category, api_client_for
):
    request = submit(resident, district.a1.compound, category, photos=[png()])
    services.request_accept(request=request, by=staff_a)
    before = snapshot(request)
    client = api_client_for(staff_b)
    payloads = dict(STEP_PAYLOADS)
    payloads["reroute"] = {"compound": district.a2.compound.pk}
    payloads["duplicate"] = {"original": request.pk}

    assert client.get(url("request-detail", request.pk)).status_code == 404
    assert client.get(step(request.pk, "events")).status_code == 404
    assert client.get(step(request.pk, "attachments")).status_code == 404
    for name, payload in payloads.items():
        response = client.post(step(request.pk, name), payload, format="json")
        assert response.status_code == 404, name
    assert snapshot(request) == before


def test_resident_sees_only_own_requests_and_public_events(district, resident, staff_a, category, api_client_for):
    own = submit(resident, district.a1.compound, category, photos=[png()])
    neighbour = submit(staff_a, district.a1.compound, category, contact_name="邻居")
    services.request_accept(request=own, by=staff_a)
    services.request_reply(request=own, by=staff_a, message="内部：联系物业维修班", public=False)
    services.request_reply(request=own, by=staff_a, message="已安排物业明天维修")
    client = api_client_for(resident)

    assert ids(client.get(url("request-list"))) == [own.pk]
    assert client.get(url("request-detail", neighbour.pk)).status_code == 404
    assert client.get(step(neighbour.pk, "events")).status_code == 404
    events = client.get(step(own.pk, "events")).json()
    assert [e["kind"] for e in events] == ["submitted", "accepted", "replied"]
    assert [e["message"] for e in events][-1] == "已安排物业明天维修"
    staff_events = api_client_for(staff_a).get(step(own.pk, "events")).json()
    assert [e["kind"] for e in staff_events] == ["submitted", "accepted", "note", "replied"]
    photos = client.get(step(own.pk, "attachments")).json()
    assert [p["id"] for p in photos] == list(own.attachments.values_list("pk", flat=True))
    assert photos[0]["url"] == f"http://testserver/requests/attachment/{photos[0]['id']}/"


def test_contact_mobile_is_masked_for_everyone_and_revealed_by_who_handles_it(
    district, staff_a, staff_b, district_official, category, api_client_for
):
    from baohe.models import AuditEntry

    request = submit(staff_a, district.a1.compound, category, contact_mobile="13812345678")

    assert api_client_for(staff_a).get(url("request-detail", request.pk)).json()["contact_mobile"] == "138****5678"
    official = api_client_for(district_official).get(url("request-detail", request.pk)).json()
    assert official["contact_mobile"] == "138****5678"
    assert official["can_handle"] is False
    reveal = f"/api/v1/requests/{request.pk}/reveal/"
    assert api_client_for(district_official).post(reveal, {"reason": "request"}, format="json").status_code == 403
    assert api_client_for(staff_b).post(reveal, {"reason": "request"}, format="json").status_code == 404
    assert api_client_for(staff_a).post(reveal, {"reason": "x"}, format="json").status_code == 400
    assert AuditEntry.objects.filter(action=AuditEntry.Action.VIEW_PERSONAL).count() == 0
    answer = api_client_for(staff_a).post(reveal, {"reason": "request"}, format="json", REMOTE_ADDR="10.0.0.9")
    assert (answer.status_code, answer.json()) == (200, {"contact_mobile": "13812345678"})
    assert list(
        AuditEntry.objects.filter(action=AuditEntry.Action.VIEW_PERSONAL).values_list(
            "user", "action", "object_type", "object_id", "reason", "ip_address"
        )
    ) == [(staff_a.pk, "view_personal", "service_requests.servicerequest", str(request.pk), "request", "10.0.0.9")]


def test_blank_choices_are_null_until_made(district, resident, staff_a, category, api_client_for):
    request = submit(resident, district.a1.compound, category)
    fresh = api_client_for(resident).get(url("request-detail", request.pk)).json()
    assert (fresh["solved"], fresh["satisfaction"], fresh["assignee_kind"]) == (None, None, None)

    services.request_accept(request=request, by=staff_a)
    services.request_assign(request=request, by=staff_a, kind="staff", user=staff_a, label="")
    services.request_resolve(request=request, by=staff_a, message="已修好")
    services.request_rate(request=request, by=resident, solved="solved", satisfaction="satisfied")
    rated = api_client_for(resident).get(url("request-detail", request.pk)).json()
    assert (rated["solved"], rated["satisfaction"], rated["assignee_kind"]) == ("solved", "satisfied", "staff")


def test_schema_says_blank_choices_are_null_and_names_the_masked_mobile():
    import re

    from drf_spectacular.generators import SchemaGenerator

    from baohe.masking import mask_mobile
    from baohe.personal import MASKED_PATTERNS

    MASKED_MOBILE_PATTERN = MASKED_PATTERNS["mobile"]

    components = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    request = components["ServiceRequest"]["properties"]
    for name, choices in [
        ("solved", ServiceRequest.Solved),
        ("satisfaction", ServiceRequest.Satisfaction),
        ("assignee_kind", ServiceRequest.AssigneeKind),
    ]:
        assert request[name]["nullable"] is True, name
        enum, null = (part["$ref"].rsplit("/", 1)[-1] for part in request[name]["oneOf"])
        assert (components[enum]["enum"], components[null]["enum"]) == (choices.values, [None]), name
    masked, blank = request["contact_mobile"]["oneOf"]
    assert (masked["pattern"], blank["maxLength"]) == (MASKED_MOBILE_PATTERN, 0)
    assert re.search(MASKED_MOBILE_PATTERN, mask_mobile("13812345678"))
    assert not re.search(MASKED_MOBILE_PATTERN, "13812345678")


# --- create ----------------------------------------------------------------------------------
def test_resident_files_a_request_with_photos(district, resident, category, api_client_for):
    response = api_client_for(resident).post(
        url("request-list"),
        {
            "category": category.pk,
            "compound": district.a1.compound.pk,
            "description": "楼道灯坏了三天",
            "address": "1栋1单元",
            "photos": [png("a.png"), png("b.png")],
        },
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    request = ServiceRequest.objects.get(pk=body["id"])
    assert (request.status, request.channel, request.submitted_by, request.entered_by) == (
        Status.SUBMITTED,
        "online",
        resident,
        None,
    )
    # The resident's own household and building are filled in.
    assert request.household == district.a1.households[0]
    assert request.building == district.a1.buildings[0]
    assert request.attachments.count() == 2
    assert body["number"] == request.number
    assert body["current_due_at"] == body["accept_due_at"]


def test_staff_files_on_behalf_of_a_resident(district, resident, staff_a, category, api_client_for):
    response = api_client_for(staff_a).post(
        url("request-list"),
        {
            "category": category.pk,
            "compound": district.a1.compound.pk,
            "description": "电话反映：电梯异响",
            "channel": "phone",
            "resident_user": resident.pk,
            "contact_mobile": "13912345678",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    request = ServiceRequest.objects.get(pk=response.json()["id"])
    assert (request.channel, request.submitted_by, request.entered_by) == ("phone", resident, staff_a)


@pytest.mark.parametrize(
    ("who", "change", "field"),
    [
        ("resident", {"compound": "a2"}, "compound"),
        ("resident", {"channel": "phone"}, "channel"),
        ("resident", {"description": ""}, "description"),
        ("resident", {"photos": "not-a-photo"}, "photos"),
        ("staff_a", {"channel": None}, "channel"),
        ("staff_a", {"compound": "a2"}, "compound"),
        ("staff_a", {"category": "top"}, "category"),
    ],
)
def test_bad_create_input_answers_400_with_field_errors(
    district, resident, staff_a, category, api_client_for, who, change, field
):
    user = {"resident": resident, "staff_a": staff_a}[who]
    data = {
        "category": category.pk,
        "compound": district.a1.compound.pk,
        "description": "楼道灯坏了",
        "channel": "phone" if who == "staff_a" else "online",
    }
    for key, value in change.items():
        if value == "a2":
            value = district.a2.compound.pk
        elif value == "top":
            value = category.parent_id
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    if data.get("photos") == "not-a-photo":
        data["photos"] = [SimpleUploadedFile("x.jpg", b"<html>not an image</html>", content_type="image/jpeg")]

    response = api_client_for(user).post(url("request-list"), data, format="multipart")

    assert response.status_code == 400
    assert field in response.json()
    assert ServiceRequest.objects.count() == 0


def test_too_many_photos_answer_under_photos(district, resident, category, api_client_for):
    response = api_client_for(resident).post(
        url("request-list"),
        {
            "category": category.pk,
            "compound": district.a1.compound.pk,
            "description": "楼道灯坏了",
            "photos": [png(f"{i}.png") for i in range(7)],
        },
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json() == {"photos": ["每条诉求最多 6 张照片（已有 0 张，本次 7 张）。"]}
    assert ServiceRequest.objects.count() == 0


# --- the workflow ----------------------------------------------------------------------------
def test_full_workflow_through_the_api(district, resident, staff_a, secretary_a, category, api_client_for):
    request = submit(resident, district.a1.compound, category)
    staff = api_client_for(staff_a)
    pk = request.pk

    response = staff.post(step(pk, "accept"))
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["assigned_to"]) == ("accepted", staff_a.pk)

    response = staff.post(step(pk, "assign"), {"assignee_kind": "staff", "user": secretary_a.pk}, format="json")
    assert (response.status_code, response.json()["status"]) == (200, "in_progress")
    assert response.json()["assignee_label"] == str(secretary_a)

    response = staff.post(step(pk, "reply"), {"message": "内部备注", "public": False}, format="json")
    assert (response.status_code, response.json()["status"]) == (200, "in_progress")

    request.refresh_from_db()
    until = request.resolve_due_at + timedelta(days=3)
    response = staff.post(step(pk, "extension"), {"until": until.isoformat(), "reason": "需采购灯具"}, format="json")
    assert response.status_code == 200
    assert response.json()["extension_reason"] == "需采购灯具"

    response = api_client_for(secretary_a).post(
        step(pk, "extension-decide"), {"approve": True, "note": "同意"}, format="json"
    )
    assert response.status_code == 200
    request.refresh_from_db()
    assert (request.resolve_due_at, request.extension_count, request.extension_until) == (until, 1, None)

    response = staff.post(step(pk, "resolve"), {"message": "已更换灯泡", "photos": [png()]}, format="multipart")
    assert (response.status_code, response.json()["status"]) == (200, "resolved")
    assert request.attachments.count() == 1

    response = api_client_for(resident).post(
        step(pk, "rate"), {"solved": "solved", "satisfaction": "satisfied", "comment": "谢谢"}, format="json"
    )
    assert (response.status_code, response.json()["status"]) == (200, "closed")
    assert list(request.events.values_list("kind", flat=True)) == [
        "submitted",
        "accepted",
        "assigned",
        "note",
        "extension_requested",
        "extension_approved",
        "resolved",
        "rated",
    ]


def test_reject_duplicate_close_and_follow_up(district, resident, staff_a, category, api_client_for):
    staff = api_client_for(staff_a)
    rejected = submit(resident, district.a1.compound, category)
    original = submit(resident, district.a1.compound, category)
    duplicate = submit(resident, district.a1.compound, category)
    followed = submit(resident, district.a1.compound, category)
    closed = submit(resident, district.a1.compound, category)
    for request in (followed, closed):
        services.request_accept(request=request, by=staff_a)
        services.request_resolve(request=request, by=staff_a, message="已处理")

    assert staff.post(step(rejected.pk, "reject"), {"reason": "属物业合同纠纷"}, format="json").json()["status"] == (
        "rejected"
    )
    response = staff.post(step(duplicate.pk, "duplicate"), {"original": original.pk}, format="json")
    assert (response.json()["status"], response.json()["duplicate_of"]) == ("closed", original.pk)
    response = staff.post(
        step(followed.pk, "follow-up"), {"solved": "unsolved", "satisfaction": "unsatisfied"}, format="json"
    )
    assert (response.json()["status"], response.json()["reopen_count"]) == ("in_progress", 1)
    assert staff.post(step(closed.pk, "close"), {"note": "电话回访满意"}, format="json").json()["status"] == "closed"


def test_return_and_reroute_by_street_staff(district, resident, staff_a, street_staff_a, category, api_client_for):
    request = submit(resident, district.a1.compound, category)

    response = api_client_for(staff_a).post(step(request.pk, "return"), {"reason": "位置在宁国小区"}, format="json")
    assert (response.status_code, response.json()["status"], response.json()["return_count"]) == (200, "returned", 1)

    response = api_client_for(street_staff_a).post(
        step(request.pk, "reroute"),
        {"compound": district.a2.compound.pk, "building": district.a2.buildings[0].pk},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["community"]) == ("submitted", district.a2.community.pk)
    # A1's staff no longer see it.
    assert api_client_for(staff_a).get(url("request-detail", request.pk)).status_code == 404


def test_a_step_that_does_not_apply_answers_409_and_changes_nothing(
    district, resident, staff_a, category, api_client_for
):
    request = submit(resident, district.a1.compound, category)
    services.request_accept(request=request, by=staff_a)
    services.request_resolve(request=request, by=staff_a, message="已处理")
    before = snapshot(request)

    response = api_client_for(staff_a).post(step(request.pk, "accept"))

    assert response.status_code == 409
    assert response.json() == {"detail": "该诉求当前状态为「已办结待评价」，不能签收。", "code": "invalid_transition"}
    assert snapshot(request) == before


def test_accepting_twice_answers_409(district, resident, staff_a, secretary_a, category, api_client_for):
    request = submit(resident, district.a1.compound, category)
    assert api_client_for(staff_a).post(step(request.pk, "accept")).status_code == 200

    response = api_client_for(secretary_a).post(step(request.pk, "accept"))

    assert (response.status_code, response.json()["detail"]) == (409, "该诉求已被签收。")
    request.refresh_from_db()
    assert request.assigned_to == staff_a


def test_resident_may_not_handle_their_own_request(district, resident, category, api_client_for):
    request = submit(resident, district.a1.compound, category)
    before = snapshot(request)
    client = api_client_for(resident)

    for name, payload in (("accept", {}), ("reject", {"reason": "不要了"}), ("reply", {"message": "我自己修好了"})):
        response = client.post(step(request.pk, name), payload, format="json")
        assert (response.status_code, response.json()["detail"]) == (403, "只有本社区工作人员可以办理该诉求。"), name
    assert snapshot(request) == before


def test_staff_may_not_approve_an_extension(district, resident, staff_a, category, api_client_for):
    request = submit(resident, district.a1.compound, category)
    services.request_accept(request=request, by=staff_a)
    request.refresh_from_db()
    services.request_extension_request(
        request=request, by=staff_a, until=request.resolve_due_at + timedelta(days=2), reason="等配件"
    )

    response = api_client_for(staff_a).post(step(request.pk, "extension-decide"), {"approve": True}, format="json")

    assert (response.status_code, response.json()["detail"]) == (403, "只有社区书记可以审批延期。")


@pytest.mark.parametrize(
    ("name", "payload", "field"),
    [
        ("reject", {}, "reason"),
        ("reject", {"reason": ""}, "reason"),
        ("return", {}, "reason"),
        ("reply", {"message": ""}, "message"),
        ("assign", {"assignee_kind": "robot", "label": "x"}, "assignee_kind"),
        ("assign", {"assignee_kind": "staff"}, "user"),
        ("extension", {"until": "tomorrow", "reason": "x"}, "until"),
        ("extension-decide", {"note": "x"}, "approve"),
        ("duplicate", {"original": 999999}, "original"),
        ("reroute", {"compound": 999999}, "compound"),
        ("follow-up", {"solved": "solved", "satisfaction": "great"}, "satisfaction"),
        ("follow-up", {"solved": "maybe", "satisfaction": "satisfied"}, "solved"),
    ],
)
def test_bad_step_input_answers_400_and_changes_nothing(
    district, resident, staff_a, category, api_client_for, name, payload, field
):
    request = submit(resident, district.a1.compound, category)
    before = snapshot(request)

    response = api_client_for(staff_a).post(step(request.pk, name), payload, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert snapshot(request) == before


def test_rating_with_an_invalid_satisfaction_answers_400(district, resident, staff_a, category, api_client_for):
    request = submit(resident, district.a1.compound, category)
    services.request_accept(request=request, by=staff_a)
    services.request_resolve(request=request, by=staff_a, message="已处理")
    before = snapshot(request)

    response = api_client_for(resident).post(
        step(request.pk, "rate"), {"solved": "solved", "satisfaction": "very"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"satisfaction": ["“very” 不是合法选项。"]}
    assert snapshot(request) == before


def test_resolve_with_a_bad_photo_answers_400_under_photos(district, resident, staff_a, category, api_client_for):
    request = submit(resident, district.a1.compound, category)
    services.request_accept(request=request, by=staff_a)
    before = snapshot(request)
    fake = SimpleUploadedFile("fix.jpg", b"GIF89a not really", content_type="image/jpeg")

    response = api_client_for(staff_a).post(
        step(request.pk, "resolve"), {"message": "已处理", "photos": [fake]}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json() == {"photos": ["fix.jpg 不是可识别的照片，只接受 JPEG、PNG 或 WebP 图片。"]}
    assert snapshot(request) == before


# --- filters, ordering, counts ---------------------------------------------------------------
@pytest.fixture
def queue(district, resident, staff_a, secretary_a, staff_b, category):
    """Five A1 requests in different states with known deadlines, and one in A2."""
    now = timezone.now()
    a1 = district.a1.compound
    rows = {
        "submitted_overdue": submit(resident, a1, category),
        "submitted": submit(resident, a1, category, description="垃圾桶满了"),
        "accepted_due_today": submit(resident, a1, category),
        "in_progress_overdue": submit(resident, a1, category),
        "resolved": submit(resident, a1, category),
    }
    submit(staff_b, district.a2.compound, category)
    services.request_accept(request=rows["accepted_due_today"], by=secretary_a)
    services.request_accept(request=rows["in_progress_overdue"], by=secretary_a)
    services.request_assign(request=rows["in_progress_overdue"], by=secretary_a, kind="staff", user=staff_a)
    services.request_accept(request=rows["resolved"], by=staff_a)
    services.request_resolve(request=rows["resolved"], by=staff_a, message="已处理")
    # Deadlines set directly (test setup): the clock is not ours to move.
    ServiceRequest.objects.filter(pk=rows["submitted_overdue"].pk).update(accept_due_at=now - timedelta(hours=1))
    ServiceRequest.objects.filter(pk=rows["accepted_due_today"].pk).update(resolve_due_at=local_today_at(23, 59, 59))
    ServiceRequest.objects.filter(pk=rows["in_progress_overdue"].pk).update(resolve_due_at=now - timedelta(days=1))
    ServiceRequest.objects.filter(pk=rows["resolved"].pk).update(resolve_due_at=now - timedelta(days=2))
    return {name: row.pk for name, row in rows.items()}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("overdue=true", ["submitted_overdue", "in_progress_overdue"]),
        ("due_today=true", ["accepted_due_today"]),
        ("assigned_to_me=true", ["in_progress_overdue"]),
        ("status=submitted&status=accepted", ["submitted_overdue", "submitted", "accepted_due_today"]),
        ("status=resolved", ["resolved"]),
        ("overdue=false&status=submitted", ["submitted"]),
        ("search=垃圾桶", ["submitted"]),
    ],
)
def test_filters_return_exact_requests(queue, staff_a, api_client_for, query, expected):
    response = api_client_for(staff_a).get(f"{url('request-list')}?{query}")

    assert response.status_code == 200
    assert sorted(ids(response)) == sorted(queue[name] for name in expected)


def test_filter_by_number_and_by_parent_category(queue, staff_a, category, api_client_for):
    client = api_client_for(staff_a)
    number = ServiceRequest.objects.get(pk=queue["resolved"]).number

    assert ids(client.get(url("request-list"), {"search": number})) == [queue["resolved"]]
    by_parent = client.get(url("request-list"), {"category": category.parent_id, "include_closed": "true"})
    assert sorted(ids(by_parent)) == sorted(queue.values())
    # Staff see their open work by default (issue 14): the resolved one only with include_closed.
    open_only = sorted(pk for name, pk in queue.items() if name != "resolved")
    assert sorted(ids(client.get(url("request-list"), {"category": category.parent_id}))) == open_only


def test_staff_see_the_nearest_deadline_first_across_cursor_pages(queue, staff_a, api_client_for):
    client = api_client_for(staff_a)
    expected = [
        queue["resolved"],  # resolve due two days ago
        queue["in_progress_overdue"],  # resolve due yesterday
        queue["submitted_overdue"],  # accept due an hour ago
        queue["accepted_due_today"],  # resolve due tonight
        queue["submitted"],  # accept due in 24 hours
    ]

    seen, page = [], client.get(url("request-list"), {"page_size": 2, "include_closed": "true"}).json()
    seen += [row["id"] for row in page["results"]]
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [row["id"] for row in page["results"]]

    assert seen == expected
    newest = client.get(url("request-list"), {"ordering": "newest", "include_closed": "true"})
    assert ids(newest) == sorted(queue.values(), reverse=True)
    # The default view is the open work, in the same order.
    assert ids(client.get(url("request-list"))) == [pk for pk in expected if pk != queue["resolved"]]


def test_residents_see_their_newest_first(queue, resident, api_client_for):
    assert ids(api_client_for(resident).get(url("request-list"))) == sorted(queue.values(), reverse=True)


def test_counts_are_exact(queue, staff_a, api_client_for, django_assert_max_num_queries):
    client = api_client_for(staff_a)
    client.get(url("request-list"))  # the user's scope is now known

    with django_assert_max_num_queries(1):
        response = client.get(url("request-counts"))

    assert response.json() == {
        "all": 5,
        "submitted": 2,
        "accepted": 1,
        "in_progress": 1,
        "resolved": 1,
        "assigned_to_me": 1,
        "due_today": 1,
        "overdue": 2,
    }


def test_counts_for_the_other_community(queue, staff_b, api_client_for):
    counts = api_client_for(staff_b).get(url("request-counts")).json()

    assert counts == {
        "all": 1,
        "submitted": 1,
        "accepted": 0,
        "in_progress": 0,
        "resolved": 0,
        "assigned_to_me": 0,
        "due_today": 0,
        "overdue": 0,
    }


# --- categories ------------------------------------------------------------------------------
def test_categories_list_active_tops_with_active_children(category, resident, api_client_for):
    CategoryFactory(parent=category.parent, name="停用的", code="old", is_active=False)
    CategoryFactory(parent=None, name="停用的大类", code="old-top", is_active=False)

    response = api_client_for(resident).get(url("category-list"))

    assert response.status_code == 200
    assert [(c["code"], [child["code"] for child in c["children"]]) for c in response.json()] == [
        ("env", ["hallway-light"])
    ]


# --- query counts ----------------------------------------------------------------------------
def fresh_client(user):
    """A client for a freshly loaded user, so no role or scope is cached from the test's setup."""
    client = APIClient()
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    return client


@pytest.mark.parametrize("rows", [2, 20])
def test_request_list_query_count_is_flat(district, staff_a, category, django_assert_max_num_queries, rows):
    ServiceRequestFactory.create_batch(
        rows, compound=district.a1.compound, category=category, building=district.a1.buildings[0]
    )
    client = fresh_client(staff_a)

    # The user's roles and the page (values(), no joins); this process's copies of the
    # categories, communities, compounds and the page's buildings are loaded once
    # (service_requests/reference.py), and "may handle" is read from the roles.
    with django_assert_max_num_queries(6):
        response = client.get(url("request-list"))
    assert len(response.json()["results"]) == rows
    # Warm: the page alone (the roles are read again by the new request's user).
    client = fresh_client(staff_a)
    with django_assert_max_num_queries(2):
        response = client.get(url("request-list"))
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("replies", [2, 20])
def test_event_list_query_count_is_flat(district, resident, staff_a, category, django_assert_max_num_queries, replies):
    request = submit(resident, district.a1.compound, category)
    for n in range(replies):
        services.request_reply(request=request, by=staff_a, message=f"答复{n}")
    client = fresh_client(staff_a)

    # The user's roles, the request in scope, whether they handle it, the events with their actors.
    with django_assert_max_num_queries(5):
        response = client.get(step(request.pk, "events"))

    assert len(response.json()) == replies + 1
