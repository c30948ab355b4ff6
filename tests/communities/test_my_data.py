"""我的信息 (issue 12, part E): a resident sees, downloads (JSON, Excel) and asks to correct or
delete what the portal holds about them; every download is one DATA_DOWNLOAD audit line."""

import io
import json

import pytest
from openpyxl import load_workbook

from baohe.masking import mask_mobile
from baohe.models import AuditEntry
from service_requests.models import ServiceRequest
from service_requests.personal_data import personal_data_category
from tests.factories import ServiceRequestFactory


@pytest.fixture
def own_request(district, resident):
    return ServiceRequestFactory(
        compound=district.a1.compound,
        building=district.a1.buildings[0],
        household=district.a1.households[0],
        submitted_by=resident,
        description="楼道灯不亮",
        contact_name=district.a1.residents[0].name,
        contact_mobile=district.a1.residents[0].mobile,
    )


def test_the_page_shows_the_record_the_household_and_the_requests_masked(
    district, resident, own_request, client_for, django_assert_max_num_queries
):
    me, spouse = district.a1.residents[0], district.a1.residents[1]
    client = client_for(resident)
    with django_assert_max_num_queries(25):
        page = client.get("/registry/my-data/")
    html = page.content.decode()
    assert page.status_code == 200
    assert me.name in html and mask_mobile(me.mobile) in html
    assert me.mobile not in html and me.id_number not in html
    assert spouse.name not in html and spouse.name[0] + "*" * (len(spouse.name) - 1) in html
    assert spouse.mobile not in html
    assert own_request.number in html and "楼道灯不亮" in html
    for key in ("residence", "household_members", "account", "devices", "notification_preferences", "requests"):
        assert f'data-section="{key}"' in html
    assert (
        AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN).count() == 0
    )  # seeing one's own data is not a download


def test_json_download_is_audited_once(district, resident, own_request, client_for):
    client = client_for(resident)
    answer = client.get("/registry/my-data/download.json")
    assert answer.status_code == 200
    assert answer["Content-Disposition"].startswith('attachment; filename="my-data-')
    data = json.loads(answer.content)
    sections = {section["key"]: section for section in data["sections"]}
    assert sections["residence"]["rows"][0]["name"] == district.a1.residents[0].name
    assert sections["residence"]["rows"][0]["status"] == "在住"
    assert [row["number"] for row in sections["requests"]["rows"]] == [own_request.number]
    assert district.a1.residents[0].mobile not in answer.content.decode()
    entry = AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN).get()
    assert (entry.action, entry.user, entry.community_id, entry.detail["format"]) == (
        AuditEntry.Action.DATA_DOWNLOAD,
        resident,
        district.a1.community.pk,
        "json",
    )
    assert entry.detail["rows"]["requests"] == 1
    assert entry.ip_address == "127.0.0.1"


def test_excel_download_opens_with_openpyxl(district, resident, own_request, client_for):
    answer = client_for(resident).get("/registry/my-data/download.xlsx")
    assert answer.status_code == 200
    book = load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames[:3] == ["说明", "居民登记", "同户成员"]
    sheet = book["居民登记"]
    assert sheet["A1"].value == "姓名"
    assert sheet["A2"].value == district.a1.residents[0].name
    assert sheet["B2"].value == mask_mobile(district.a1.residents[0].mobile)
    assert book["我的诉求"]["A2"].value == own_request.number
    assert (
        AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN)
        .filter(action=AuditEntry.Action.DATA_DOWNLOAD, detail__format="xlsx")
        .count()
        == 1
    )


def test_a_formula_typed_by_someone_stays_text(district, resident, client_for):
    ServiceRequestFactory(
        compound=district.a1.compound, submitted_by=resident, description='=HYPERLINK("http://x","y")'
    )
    book = load_workbook(io.BytesIO(client_for(resident).get("/registry/my-data/download.xlsx").content))
    cell = book["我的诉求"]["E2"]
    assert (cell.value, cell.data_type) == ('\'=HYPERLINK("http://x","y")', "s")


def test_api_me_data(district, resident, own_request, api_client_for):
    answer = api_client_for(resident).get("/api/v1/me/data/")
    assert answer.status_code == 200
    keys = [section["key"] for section in answer.json()["sections"]]
    assert keys[:2] == ["residence", "household_members"]
    assert {"account", "devices", "requests", "visits", "volunteer", "service_hours"} <= set(keys)
    assert (
        AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN)
        .filter(action=AuditEntry.Action.DATA_DOWNLOAD, detail__format="api")
        .count()
        == 1
    )
    assert answer.json()["user"] == "r******1"  # resident_a1, masked like any username (it is often a mobile number)


def test_anonymous_gets_nothing(client, api_client_for, db):
    assert client.get("/registry/my-data/").status_code == 302
    assert client.get("/registry/my-data/download.json").status_code == 302
    assert api_client_for(None).get("/api/v1/me/data/").status_code in (401, 403)
    assert AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN).count() == 0


def test_staff_see_only_their_own_account(district, staff_a, client_for):
    data = json.loads(client_for(staff_a).get("/registry/my-data/download.json").content)
    sections = {section["key"]: section["rows"] for section in data["sections"]}
    assert sections["residence"] == [] and sections["household_members"] == []
    assert sections["account"][0]["name"] == "曙光社区网格员"


def test_ask_for_a_correction_files_a_request_in_its_category(district, resident, client_for):
    client = client_for(resident)
    assert client.get("/requests/my-data/correction/").status_code == 200
    bad = client.post("/requests/my-data/correction/", {"item": "出生年份", "current": "1980"})
    assert bad.status_code == 200 and ServiceRequest.objects.count() == 0
    answer = client.post("/requests/my-data/correction/", {"item": "出生年份", "current": "1980", "wanted": "1981"})
    request = ServiceRequest.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/requests/{request.pk}/"
    assert request.category == personal_data_category("correction")
    assert (request.category.name, request.category.parent.name) == ("个人信息更正", "个人信息")
    assert request.description == "【个人信息更正】出生年份：现登记为“1980”，应为“1981”。"
    assert (request.household, request.submitted_by, request.community) == (
        district.a1.households[0],
        resident,
        district.a1.community,
    )
    assert request.accept_due_at is not None and request.resolve_due_at is not None


def test_ask_for_a_deletion_reaches_the_community_queue(district, resident, staff_a, staff_b, client_for):
    client_for(resident).post("/requests/my-data/deletion/", {"item": "整条居民登记", "reason": "已搬走"})
    request = ServiceRequest.objects.get()
    assert request.description == "【个人信息删除】整条居民登记。理由：已搬走"
    assert request.category.name == "个人信息删除"
    assert request.number in client_for(staff_a).get("/requests/queue/").content.decode()
    assert client_for(staff_b).get(f"/requests/{request.pk}/").status_code == 404


def test_unknown_kind_and_no_household(district, client_for, staff_a):
    assert client_for(staff_a).get("/requests/my-data/other/").status_code == 404
    answer = client_for(staff_a).post("/requests/my-data/deletion/", {"item": "手机号", "reason": "不用了"})
    assert answer.status_code == 200
    assert "您还没有登记的住户" in answer.content.decode()
    assert ServiceRequest.objects.count() == 0
