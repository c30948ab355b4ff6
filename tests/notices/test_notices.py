"""通知公告: publishing fans out receipts and messages; residents read and confirm; the central
household marks 已传达到户; staff read coverage per building. Scope: another community's staff
get 404 and change nothing; a resident of another building never sees a building's notice."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import Role
from baohe.exceptions import Conflict, OutOfScope
from baohe.models import AuditEntry
from baohe.sms import LogBackend
from communities.services import PersonTraces
from notices import services
from notices.models import Notice, Receipt
from notices.personal_data import forget_person
from notifications.models import Delivery, Notification
from notifications.services import deliveries_dispatch
from tests.factories import CentralHouseholdFactory, PartyMemberFactory, RoleFactory, UserFactory

pytestmark = pytest.mark.django_db


def account(record, username):
    """Give a registered resident an account (as registering with their mobile number would)."""
    user = UserFactory(username=username, name=record.name, mobile=record.mobile)
    record.user = user
    record.save(update_fields=["user"])
    RoleFactory(user=user, resident=True, community=record.community)
    return user


@pytest.fixture
def harmony(district, resident):
    """A1's building 1: the resident's household (0), a central household (1) serving household 2
    (no account); building 2's households stay out of a building notice."""
    tree = district.a1
    central_record = tree.residents[2]  # head of household 1
    member = PartyMemberFactory(resident=central_record)
    CentralHouseholdFactory(member=member, served_households=[tree.households[2]])
    return {"tree": tree, "central": account(central_record, "central_a1"), "building": tree.buildings[0]}


def publish(by, tree, **options):
    values = {
        "community": tree.community,
        "audience": Notice.Audience.BUILDING,
        "building": tree.buildings[0],
        "title": "5月20日停水通知",
        "body": "因管道检修，5月20日8:00至12:00停水，请提前储水。",
        "requires_confirmation": True,
    }
    return services.notice_publish(by=by, **{**values, **options})


def png(name="photo.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_publishing_to_a_building_writes_receipts_inbox_and_sms_once(harmony, staff_a, resident, settings):
    tree = harmony["tree"]
    notice = publish(staff_a, tree, images=[png()])
    households = [h.pk for h in tree.households[:3]]
    assert sorted(Receipt.objects.filter(notice=notice).values_list("household_id", flat=True)) == households
    assert notice.households_total == 3
    assert notice.images.get().content_type == "image/png"
    # Inbox for the two accounts in building 1 (the resident, the central household); nobody in building 2.
    told = Notification.objects.filter(kind="notice", recipient__isnull=False)
    assert sorted(told.values_list("recipient__username", flat=True)) == ["central_a1", "resident_a1"]
    assert told.get(recipient=resident).dedupe_key == f"notice:{notice.pk}:user:{resident.pk}"
    # 需确认: one SMS to the household without an account (household 2, its head's number).
    sms = Notification.objects.get(kind="notice", recipient__isnull=True)
    assert sms.dedupe_key == f"notice:{notice.pk}:household:{tree.households[2].pk}:sms"
    assert sms.mobile == tree.residents[4].mobile
    assert sms.deliveries.get().channel == Delivery.Channel.SMS
    # Fanning out again writes nothing new (dedupe keys).
    households_ids = set(households)
    assert services._fan_out(notice, services._target(notice)[1], households_ids)["sms_without_account"] == 0
    assert Notification.objects.filter(kind="notice").count() == 3
    entry = AuditEntry.objects.get(action=AuditEntry.Action.CREATE, object_id=str(notice.pk))
    assert entry.detail == {"audience": "building", "households": 3, "inbox": 2, "sms_without_account": 1}
    # The worker sends it to the bare number (the resident's default preference adds SMS to the inbox).
    settings.SMS_BACKEND = "baohe.sms.LogBackend"
    LogBackend.outbox.clear()
    deliveries_dispatch()
    assert (tree.residents[4].mobile, f"【和美社区】{sms.title}") in [(m.to, m.body) for m in LogBackend.outbox]
    # Anonymising the person whose number it went to removes that SMS.
    head = tree.residents[4]
    forget_person(
        PersonTraces(
            resident_id=head.pk,
            household_id=head.household_id,
            user_id=None,
            name=head.name,
            mobile=head.mobile,
            id_number="",
        )
    )
    assert not Notification.objects.filter(recipient__isnull=True).exists()


def test_who_may_publish(harmony, staff_b, street_official_a, secretary_a, client_for):
    tree = harmony["tree"]
    for outsider in (staff_b, street_official_a, harmony["central"]):
        with pytest.raises(OutOfScope):
            publish(outsider, tree)
    # The page offers another community's places as no choice at all.
    response = client_for(staff_b).post(
        "/notices/new/",
        {"community": tree.community.pk, "audience": "community", "title": "越权", "body": "越权发布"},
    )
    assert response.status_code == 200
    assert "community" in response.context["form"].errors
    assert Notice.objects.count() == 0 and Receipt.objects.count() == 0 and Notification.objects.count() == 0
    assert publish(secretary_a, tree).households_total == 3


def test_publish_page_refuses_bad_input_with_errors(harmony, staff_a, client_for):
    tree = harmony["tree"]
    client = client_for(staff_a)

    def junk():
        return SimpleUploadedFile("x.png", b"<html>not an image</html>", content_type="image/png")

    response = client.post(
        "/notices/new/",
        {
            "community": tree.community.pk,
            "audience": "building",
            "title": "停水",
            "body": "正文\x01",
            "images": [junk()],
        },
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"body"}
    response = client.post(
        "/notices/new/",
        {"community": tree.community.pk, "audience": "building", "title": "停水", "body": "正文", "images": [junk()]},
    )
    assert set(response.context["form"].errors) == {"building", "images"}, response.context["form"].errors
    assert Notice.objects.count() == 0
    response = client.post(
        "/notices/new/",
        {
            "community": tree.community.pk,
            "audience": "building",
            "building": tree.buildings[0].pk,
            "title": "停水",
            "body": "正文",
            "requires_confirmation": "on",
        },
    )
    notice = Notice.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/notices/{notice.pk}/coverage/"


def test_resident_reads_confirms_central_household_relays_staff_see_coverage(
    harmony, staff_a, staff_b, resident, client_for
):
    tree = harmony["tree"]
    notice = publish(staff_a, tree)
    home = client_for(resident).get("/registry/my-building/")
    assert "5月20日停水通知" in home.content.decode() and home.context["to_confirm"] == 1

    page = client_for(resident).get(f"/notices/{notice.pk}/")
    assert page.status_code == 200
    mine = Receipt.objects.get(notice=notice, household=tree.households[0])
    assert mine.read_at is not None and mine.confirmed_at is None
    client_for(resident).post(f"/notices/{notice.pk}/confirm/")
    mine.refresh_from_db()
    assert mine.confirmed_by == resident

    central = client_for(harmony["central"])
    assert [n.pending for n in central.get("/notices/").context["to_relay"]] == [1]
    # The households it serves, not its own (household 1), which it reads itself.
    assert [r.household_id for r in central.get(f"/notices/{notice.pk}/relay/").context["relay_rows"]] == [
        tree.households[2].pk
    ]
    central.post(f"/notices/{notice.pk}/relay/{tree.households[2].pk}/")
    relayed = Receipt.objects.get(notice=notice, household=tree.households[2])
    assert relayed.relayed_by == harmony["central"]
    with pytest.raises(Conflict):
        services.notice_relay(notice=notice, household_id=tree.households[2].pk, by=harmony["central"])
    # The resident serves nobody: 404, nothing changed.
    assert client_for(resident).get(f"/notices/{notice.pk}/relay/").status_code == 404
    assert client_for(resident).post(f"/notices/{notice.pk}/relay/{tree.households[1].pk}/").status_code == 404
    assert (
        client_for(harmony["central"]).post(f"/notices/{notice.pk}/relay/{tree.households[1].pk}/").status_code == 404
    )
    assert Receipt.objects.get(notice=notice, household=tree.households[1]).relayed_at is None

    coverage = client_for(staff_a).get(f"/notices/{notice.pk}/coverage/")
    (row,) = coverage.context["rows"]
    assert (row["reached"], row["total"], row["confirmed"], row["relayed"]) == (2, 3, 1, 1)
    assert [r.household_id for r in row["missing"]] == [tree.households[1].pk]
    assert tree.residents[2].name in coverage.content.decode()
    assert client_for(staff_b).get(f"/notices/{notice.pk}/coverage/").status_code == 404
    assert client_for(staff_b).get(f"/notices/{notice.pk}/").status_code == 404


def test_a_building_notice_stays_with_its_building(harmony, staff_a, resident, client_for):
    tree = harmony["tree"]
    notice = publish(staff_a, tree, images=[png()])
    neighbour = account(tree.residents[6], "resident_building2")  # household 3, building 2
    client = client_for(neighbour)
    assert client.get(f"/notices/{notice.pk}/").status_code == 404
    assert client.get(f"/notices/images/{notice.images.get().pk}/").status_code == 404
    assert client.post(f"/notices/{notice.pk}/confirm/").status_code == 404
    assert list(client.get("/notices/").context["notices"]) == []
    assert client_for(resident).get(f"/notices/images/{notice.images.get().pk}/").status_code == 200
    assert Receipt.objects.filter(read_at__isnull=False).count() == 0


@pytest.mark.parametrize("rows", [2, 20])
def test_lists_query_counts_are_flat(harmony, staff_a, resident, client_for, django_assert_max_num_queries, rows):
    tree = harmony["tree"]
    for n in range(rows):
        publish(staff_a, tree, title=f"通知{n}", requires_confirmation=n % 2 == 0)
    staff, home = client_for(staff_a), client_for(resident)
    with django_assert_max_num_queries(8):
        assert len(staff.get("/notices/").context["page"]) == rows
    with django_assert_max_num_queries(8):
        assert len(home.get("/notices/").context["notices"]) == rows


def test_api_publish_read_confirm_relay_and_scope(harmony, staff_a, staff_b, resident, api_client_for):
    tree = harmony["tree"]
    payload = {
        "community": tree.community.pk,
        "audience": "building",
        "building": tree.buildings[0].pk,
        "title": "消防演练",
        "body": "周六上午消防演练。",
        "requires_confirmation": True,
    }
    assert api_client_for(staff_b).post("/api/v1/notices/", payload, format="json").status_code == 400
    assert api_client_for(resident).post("/api/v1/notices/", payload, format="json").status_code == 400
    created = api_client_for(staff_a).post("/api/v1/notices/", payload, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["households_total"] == 3
    assert api_client_for(staff_b).get(f"/api/v1/notices/{pk}/").status_code == 404
    assert api_client_for(resident).post(f"/api/v1/notices/{pk}/confirm/").json() == {"changed": 1}
    relay = api_client_for(harmony["central"]).post(
        f"/api/v1/notices/{pk}/relay/", {"household": tree.households[2].pk}, format="json"
    )
    assert relay.status_code == 200 and relay.json()["relayed_at"]
    assert (
        api_client_for(harmony["central"])
        .post(f"/api/v1/notices/{pk}/relay/", {"household": tree.households[3].pk}, format="json")
        .status_code
        == 404
    )
    coverage = api_client_for(staff_a).get(f"/api/v1/notices/{pk}/coverage/").json()
    (row,) = coverage["rows"]
    assert (row["reached"], row["total"], row["not_reached"]) == (2, 3, [tree.households[1].pk])
    assert coverage["totals"] == {"total": 3, "read": 1, "confirmed": 1, "relayed": 1, "reached": 2}
    mine = api_client_for(resident).get("/api/v1/notice-receipts/").json()["results"]
    assert [r["household"] for r in mine] == [tree.households[0].pk]
    assert Role.objects.filter(user=staff_b).count() == 1
