"""Party members and central households import (issue 17): the second kind of the registry
import, at the service level with small generated sheets (the worker's work called directly).

On ``party`` (tests/partybuilding/conftest.py): A1 has 曙光小区党支部 with 曙光1栋党小组;
residents[2] (household 1) is already a member and central household serving household 0.
Households 0-2 are building 1 rooms 101/102/201, households 3-5 building 2, all in unit 1.
"""

import io

import pytest
from openpyxl import Workbook, load_workbook

from baohe.models import AuditEntry, ImportJob
from baohe.validators import id_check_char
from communities.services.imports import import_apply, import_apply_start, import_marked_sheet, import_upload
from communities.services.imports import import_validate as validate
from partybuilding.imports import COLUMNS
from partybuilding.models import CentralHousehold, PartyMember
from tests.communities.test_imports import upload

HEADER = [f"{c.header}*" if c.required else c.header for c in COLUMNS]
BRANCH, GROUP = "曙光小区党支部", "曙光1栋党小组"


def member(ident, branch=BRANCH, group="", joined="", central="", served=""):
    row = {"身份证号*": ident, "党支部*": branch, "党小组": group, "入党日期": joined, "是否中心户": central}
    row["联系服务的住户"] = served
    return [row.get(h, "") for h in HEADER]


def xlsx(rows):
    book = Workbook()
    book.active.append(HEADER)
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def good_rows(district):
    a1 = district.a1
    return [
        # household 3 (building 2, 1-101) becomes a central household serving 1-102 and 201
        member(a1.residents[6].id_number, group="", joined="1998-07-01", central="是", served="1-102, 201"),
        member(a1.residents[8].id_number, group=GROUP, central="否"),
        # already a member and central household: the same again
        member(a1.residents[2].id_number, group=GROUP, central="是", served="1-101"),
    ]


def send(staff, community, rows, name="p.xlsx"):
    job = import_upload(by=staff, community=community, upload=upload(name, xlsx(rows)), kind=ImportJob.Kind.PARTY)
    return validate(job_id=job.pk)


def test_report_names_unknown_branch_person_and_room(party, district, staff_a):
    a1 = district.a1
    first17 = "34011119700101001"
    rows = [
        *good_rows(district)[:2],
        member(a1.residents[2].id_number),  # row 4: the leader of 曙光1栋党小组 out of it
        member(a1.residents[10].id_number, branch="不存在党支部"),  # row 5
        member(first17 + id_check_char(first17)),  # row 6: not in the registry
        member(district.a2.residents[0].id_number),  # row 7: registered in another community
        member(a1.residents[11].id_number, central="是", served="1-909"),  # row 8
        member(a1.residents[6].id_number),  # row 9: twice in the file
        member(a1.residents[10].id_number, group="别的小组"),  # row 10
    ]
    job = send(staff_a, a1.community, rows)
    assert job.status == ImportJob.Status.VALIDATED and job.kind == "party"
    by_row = {number: (column, message) for number, column, message in job.errors}
    assert sorted(by_row) == [4, 5, 6, 7, 8, 9, 10] and job.error_rows == 7
    assert by_row[4] == ("党小组", "该党员是“曙光1栋党小组”的党小组长，请先在页面上更换组长。")
    assert by_row[5] == ("党支部", "本社区没有名为“不存在党支部”的党支部。")
    assert by_row[6] == ("身份证号", "本社区居民库中没有这个身份证号的在住居民，请先导入居民。")
    assert by_row[7] == by_row[6]  # someone of another community is not found here either
    assert by_row[8] == ("联系服务的住户", "党员所住楼栋没有 1 单元 909 这一户。")
    assert by_row[9] == ("身份证号", "与第 2 行的身份证号重复。")
    assert by_row[10] == ("党小组", "党支部“曙光小区党支部”没有名为“别的小组”的党小组。")
    marked = load_workbook(io.BytesIO(import_marked_sheet(job))).active
    assert marked.title == "党员导入" and marked.cell(row=8, column=len(HEADER) + 1).value.startswith(
        "联系服务的住户："
    )
    with pytest.raises(Exception, match="不能执行"):
        import_apply_start(by=staff_a, job=job)
    assert PartyMember.objects.count() == 3  # nothing written


def test_apply_creates_members_and_central_households_then_the_same_file_changes_nothing(party, district, staff_a):
    a1 = district.a1
    job = send(staff_a, a1.community, good_rows(district))
    assert job.errors == []
    assert job.plan == {
        "members_create": 2,
        "members_update": 0,
        "members_unchanged": 1,
        "central_create": 1,
        "central_update": 0,
        "central_unchanged": 1,
    }
    import_apply_start(by=staff_a, job=job)
    job = import_apply(job_id=job.pk, batch_rows=2)  # two batches
    assert job.status == ImportJob.Status.APPLIED and job.applied_rows == 3
    new = PartyMember.objects.get(resident=a1.residents[6])
    assert (new.branch, new.group, str(new.joined_on), new.community_id) == (
        party.branch_a1,
        None,
        "1998-07-01",
        a1.community.pk,
    )
    assert PartyMember.objects.get(resident=a1.residents[8]).group == party.group_a1
    central = CentralHousehold.objects.get(household=a1.households[3])
    assert central.member == new and central.community_id == a1.community.pk
    assert set(central.served_households.all()) == {a1.households[4], a1.households[5]}
    assert set(party.central_a1.served_households.all()) == {a1.households[0]}
    assert AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT, detail__stage="apply").count() == 1

    again = send(staff_a, a1.community, good_rows(district), name="again.xlsx")
    assert again.plan == {
        "members_create": 0,
        "members_update": 0,
        "members_unchanged": 3,
        "central_create": 0,
        "central_update": 0,
        "central_unchanged": 2,
    }
    import_apply_start(by=staff_a, job=again)
    again = import_apply(job_id=again.pk)
    assert again.result == {"members_unchanged": 3, "central_unchanged": 2}
    assert (PartyMember.objects.count(), CentralHousehold.objects.count()) == (5, 3)


def test_the_page_offers_both_kinds_and_the_party_template(party, district, staff_a, client_for):
    community = district.a1.community
    client = client_for(staff_a)
    page = client.get(f"/registry/community/{community.pk}/import/").content.decode()
    assert 'value="party"' in page and f"/registry/community/{community.pk}/import/party/template.xlsx" in page
    answer = client.get(f"/registry/community/{community.pk}/import/party/template.xlsx")
    book = load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["党员导入", "选项", "支部与小组", "填写说明"]
    assert [c.value for c in book["党员导入"][1]][:4] == ["序号", "姓名", "身份证号*", "党支部*"]
    assert [c.value for c in book["选项"]["A"] if c.value][1:] == [BRANCH]  # this community's branches only
    assert client.get(f"/registry/community/{community.pk}/import/nosuch/template.xlsx").status_code == 404
    posted = client.post(
        f"/registry/community/{community.pk}/import/",
        {"kind": "party", "file": upload("p.xlsx", xlsx(good_rows(district)))},
    )
    assert posted.status_code == 302 and ImportJob.objects.get().kind == "party"


def test_another_communitys_staff_get_404(party, district, staff_a, staff_b, client_for, api_client_for):
    community = district.a1.community
    answer = api_client_for(staff_a).post(
        f"/api/v1/communities/{community.pk}/imports/",
        {"file": upload("p.xlsx", xlsx(good_rows(district))), "kind": "party"},
        format="multipart",
    )
    assert answer.status_code == 201 and answer.json()["kind"] == "party"
    job = validate(job_id=answer.json()["id"])
    client, other_api = client_for(staff_b), api_client_for(staff_b)
    assert client.get(f"/registry/community/{community.pk}/import/party/template.xlsx").status_code == 404
    assert client.get(f"/registry/import/{job.pk}/").status_code == 404
    assert client.post(f"/registry/import/{job.pk}/apply/").status_code == 404
    assert other_api.post(f"/api/v1/imports/{job.pk}/apply/").status_code == 404
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.VALIDATED
    assert PartyMember.objects.count() == 3
    bad_kind = api_client_for(staff_a).post(
        f"/api/v1/communities/{community.pk}/imports/",
        {"file": upload("p.xlsx", xlsx(good_rows(district))), "kind": "votes"},
        format="multipart",
    )
    assert bad_kind.status_code == 400 and "kind" in bad_kind.json()
