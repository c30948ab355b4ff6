"""Registry import from spreadsheets (issue 17), at the service level with small generated sheets.

The worker's work is called directly (``import_validate`` / ``import_apply``), as the task does.
"""

import datetime as dt
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from baohe.exceptions import OutOfScope
from baohe.imports import ImportRefused
from baohe.models import AuditEntry, ImportJob
from baohe.validators import id_check_char
from communities.imports import COLUMNS
from communities.models import Household, Resident, ResidentTransfer
from communities.services.imports import (
    import_apply,
    import_apply_start,
    import_jobs_purge,
    import_marked_sheet,
    import_upload,
    import_validate,
)

HEADER = [f"{c.header}*" if c.required else c.header for c in COLUMNS]


def id_number(year, serial, male=True):
    first17 = f"340111{year:04d}0101{serial % 50 * 2 + (1 if male else 0):03d}"
    return first17 + id_check_char(first17)


def person(compound, building, room, name, relation, ident, mobile="", **extra):
    row = {
        "小区*": compound,
        "楼栋号*": building,
        "单元*": "1",
        "房号*": room,
        "姓名*": name,
        "与户主关系*": relation,
        "身份证号*": ident,
        "手机号": mobile,
        **extra,
    }
    return [row.get(h, "") for h in HEADER]


def xlsx(rows, header=HEADER):
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, encoding):
    lines = [",".join(HEADER), *(",".join(r) for r in rows)]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def upload(name, content):
    return SimpleUploadedFile(name, content)


def run(job):
    """The worker: validate; then, if clean, apply."""
    job = import_validate(job_id=job.pk)
    return job


def good_rows(district):
    compound = district.a1.compound.name
    return [
        person(compound, "1", "301", "王一", "户主", id_number(1970, 1), "13900000001", **{"独居老人": "是"}),
        person(compound, "1", "301", "李一", "配偶", id_number(1972, 2, male=False), "13900000002"),
        person(compound, "2", "302", "赵二", "户主", id_number(1980, 3)),
    ]


def test_report_names_each_bad_row_and_column(district, staff_a):
    compound = district.a1.compound.name
    existing = district.a1.residents[0]
    rows = [
        *good_rows(district),
        person(compound, "1", "401", "坏校验", "户主", id_number(1970, 4)[:-1] + "0"),  # row 5
        person(compound, "1", "402", "坏手机", "户主", id_number(1970, 5), "1234"),  # row 6
        person(compound, "9", "101", "无楼栋", "户主", id_number(1970, 6)),  # row 7
        person(compound, "1", "101", "重复甲", "户主", id_number(1970, 7)),  # row 8
        person(compound, "1", "101", "重复乙", "配偶", id_number(1970, 7)),  # row 9
        person(compound, "1", "403", "生日", "户主", id_number(1970, 8), **{"出生日期": "1971-01-01"}),  # row 10
        person(compound, "1", "404", "无户主", "子女", id_number(1990, 9)),  # row 11
        person(compound, "1", "405", "冒名", "户主", existing.id_number),  # row 12
        person(compound, "1", "901", "高楼", "户主", id_number(1970, 10)),  # row 13: 6 floors
        person(compound, "1", "406", "日期格", "户主", id_number(1970, 11), **{"出生日期": dt.date(1970, 1, 1)}),
    ]
    job = run(import_upload(by=staff_a, community=district.a1.community, upload=upload("a.xlsx", xlsx(rows))))
    assert job.status == ImportJob.Status.VALIDATED
    by_row = {}
    for number, column, message in job.errors:
        by_row.setdefault(number, []).append((column, message))
    assert sorted(by_row) == [5, 6, 7, 9, 10, 11, 12, 13]
    assert by_row[5] == [("身份证号", "身份证号校验位不正确，请核对。")]
    assert by_row[6][0][0] == "手机号"
    assert by_row[7] == [("楼栋号", "曙光小区没有 9 号楼栋（见“楼栋清单”）。")]
    assert by_row[9] == [("身份证号", "与第 8 行的身份证号重复。")]
    assert by_row[10] == [("出生日期", "出生日期 1971-01-01 与身份证号中的 1970-01-01 不符。")]
    assert by_row[11] == [("与户主关系", "这一户（11 行）没有户主。")]
    assert by_row[12][0][0] == "身份证号" and "与本行姓名不符" in by_row[12][0][1]
    assert by_row[13] == [("房号", "没有这个房号：1栋 共 6 层。")]
    assert job.error_rows == 8 and not job.may_apply

    # The marked sheet: the same rows plus an error column naming the problems.
    marked = load_workbook(io.BytesIO(import_marked_sheet(job))).active
    assert [c.value for c in marked[1]][-1] == "错误说明"
    assert marked.cell(row=5, column=len(HEADER) + 1).value == "身份证号：身份证号校验位不正确，请核对。"
    assert marked.cell(row=2, column=len(HEADER) + 1).value is None
    assert marked.cell(row=6, column=6).value == "坏手机"
    # Applying a sheet with errors is refused.
    with pytest.raises(Exception, match="不能执行"):
        import_apply_start(by=staff_a, job=job)


def test_apply_then_the_same_file_again_changes_nothing(district, staff_a):
    community = district.a1.community
    content = xlsx(good_rows(district))
    job = run(import_upload(by=staff_a, community=community, upload=upload("a.xlsx", content)))
    assert job.plan == {
        "residents_create": 3,
        "residents_update": 0,
        "residents_unchanged": 0,
        "transfers": 0,
        "households_create": 2,
        "households_update": 0,
    }
    before = Resident.objects.count()
    import_apply_start(by=staff_a, job=job)
    job = import_apply(job_id=job.pk, batch_rows=2)
    assert job.status == ImportJob.Status.APPLIED and job.applied_rows == 3
    assert Resident.objects.count() == before + 3
    wang = Resident.objects.with_id_number(id_number(1970, 1)).get()
    assert (wang.name, wang.mobile, wang.community_id, wang.household.room, wang.household.lives_alone_elderly) == (
        "王一",
        "13900000001",
        community.pk,
        "301",
        True,
    )
    apply_line = AuditEntry.objects.get(action=AuditEntry.Action.IMPORT, detail__stage="apply")
    assert apply_line.user == staff_a and apply_line.community_id == community.pk
    assert apply_line.detail["sha256"] == job.sha256 and apply_line.detail["residents_create"] == 3

    again = run(import_upload(by=staff_a, community=community, upload=upload("a.xlsx", content)))
    assert again.plan["residents_unchanged"] == 3 and again.plan["residents_create"] == 0
    assert again.plan["residents_update"] == 0 and again.plan["households_create"] == 0
    households = Household.objects.count()
    import_apply_start(by=staff_a, job=again)
    again = import_apply(job_id=again.pk)
    assert again.result == {"households_create": 0, "households_update": 0, "residents_unchanged": 3}
    assert (Resident.objects.count(), Household.objects.count()) == (before + 3, households)

    # An update: a registered resident (matched by ID number) with a new mobile and a new room.
    known = district.a1.residents[0]
    moved = person(district.a1.compound.name, "2", "302", known.name, "配偶", known.id_number, "13700000009")
    update = run(import_upload(by=staff_a, community=community, upload=upload("b.xlsx", xlsx([moved]))))
    assert (update.errors, update.plan["residents_update"], update.plan["residents_create"]) == ([], 1, 0)
    import_apply_start(by=staff_a, job=update)
    assert import_apply(job_id=update.pk).result["residents_update"] == 1
    known = Resident.objects.with_mobile("13700000009").get()  # the blind index follows the number
    assert (known.pk, known.household.room, known.relation) == (district.a1.residents[0].pk, "302", "spouse")


def test_a_failure_part_way_keeps_whole_batches_and_the_import_resumes(district, staff_a):
    community = district.a1.community
    job = run(import_upload(by=staff_a, community=community, upload=upload("a.xlsx", xlsx(good_rows(district)))))
    before = Resident.objects.count()
    building = district.a1.buildings[1]  # row 4's building "2": renamed after the check, so its batch fails
    building.number = "2X"
    building.save(update_fields=["number"])
    import_apply_start(by=staff_a, job=job)
    job = import_apply(job_id=job.pk, batch_rows=2)
    assert (job.status, job.applied_rows) == (ImportJob.Status.FAILED, 2)
    assert job.failure.startswith("已导入前 2 行数据，其余未导入：第 4 行：楼栋号：曙光小区没有 2 号楼栋")
    assert Resident.objects.count() == before + 2  # the first batch whole, the second absent
    assert job.may_resume
    building.number = "2"
    building.save(update_fields=["number"])
    import_apply_start(by=staff_a, job=job)
    job = import_apply(job_id=job.pk, batch_rows=2)
    assert (job.status, job.applied_rows, job.result["residents_create"]) == (ImportJob.Status.APPLIED, 3, 3)
    assert Resident.objects.count() == before + 3


def test_gb18030_csv_imports_as_the_xlsx_does(district, staff_a, staff_b):
    rows = good_rows(district)
    from_csv = run(
        import_upload(by=staff_a, community=district.a1.community, upload=upload("a.csv", csv_bytes(rows, "gb18030")))
    )
    assert from_csv.encoding == "gb18030"
    from_xlsx = run(import_upload(by=staff_a, community=district.a1.community, upload=upload("a.xlsx", xlsx(rows))))
    assert (from_csv.plan, from_csv.errors) == (from_xlsx.plan, from_xlsx.errors)
    assert from_csv.plan["residents_create"] == 3
    import_apply_start(by=staff_a, job=from_csv)
    assert import_apply(job_id=from_csv.pk).result["residents_create"] == 3
    assert Resident.objects.with_id_number(id_number(1972, 2, male=False)).get().name == "李一"


def zip_bomb():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))
    return buffer.getvalue()


def with_macros(district):
    source = zipfile.ZipFile(io.BytesIO(xlsx(good_rows(district))))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(info, source.read(info))
        archive.writestr("xl/vbaProject.bin", b'Attribute VB_Name = "x"')
    return buffer.getvalue()


def with_formula(district):
    rows = good_rows(district)
    rows[1][HEADER.index("姓名*")] = '=HYPERLINK("http://x","y")'
    return xlsx(rows)


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("bomb.xlsx", lambda d: zip_bomb(), "压缩炸弹"),
        ("macro.xlsx", with_macros, "宏"),
        ("many.xlsx", lambda d: xlsx(good_rows(d) * 7), "超过每次最多 2 行"),
        ("formula.xlsx", with_formula, "第 3 行 F 列是公式"),
        ("nul.csv", lambda d: csv_bytes([["\x00"] * len(HEADER)], "utf-8"), "NUL"),
    ],
)
def test_hostile_files_are_refused_and_nothing_is_stored(district, staff_a, settings, name, make, message):
    settings.IMPORT_MAX_ROWS = 2 if name == "many.xlsx" else 100
    lines = AuditEntry.objects.count()
    with pytest.raises(ImportRefused, match=message):
        import_upload(by=staff_a, community=district.a1.community, upload=upload(name, make(district)))
    assert ImportJob.objects.count() == 0
    assert AuditEntry.objects.count() == lines


def test_another_communitys_staff_cannot_reach_the_job(district, staff_a, staff_b, client_for, api_client_for):
    community = district.a1.community
    api = api_client_for(staff_a)
    answer = api.post(
        f"/api/v1/communities/{community.pk}/imports/",
        {"file": upload("a.xlsx", xlsx(good_rows(district)))},
        format="multipart",
    )
    assert answer.status_code == 201 and answer.json()["status"] == "uploaded"
    job = ImportJob.objects.get(pk=answer.json()["id"])
    refused = api.post(
        f"/api/v1/communities/{community.pk}/imports/", {"file": upload("m.xlsx", zip_bomb())}, format="multipart"
    )
    assert refused.status_code == 400 and "压缩炸弹" in str(refused.json())
    job = import_validate(job_id=job.pk)
    detail = api.get(f"/api/v1/imports/{job.pk}/").json()
    assert (detail["progress"], detail["plan"]["residents_create"], detail["errors"]) == (100, 3, [])

    client, other_api = client_for(staff_b), api_client_for(staff_b)
    for url in (f"/registry/import/{job.pk}/", f"/registry/import/{job.pk}/marked.xlsx"):
        assert client.get(url).status_code == 404
    assert client.post(f"/registry/import/{job.pk}/apply/").status_code == 404
    assert other_api.get(f"/api/v1/imports/{job.pk}/").status_code == 404
    assert other_api.get("/api/v1/imports/").json()["results"] == []
    assert other_api.post(f"/api/v1/imports/{job.pk}/apply/").status_code == 404
    upload_elsewhere = other_api.post(
        f"/api/v1/communities/{community.pk}/imports/", {"file": upload("a.xlsx", xlsx([]))}, format="multipart"
    )
    assert upload_elsewhere.status_code == 404
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.VALIDATED
    assert ImportJob.objects.count() == 1
    assert api.post(f"/api/v1/imports/{job.pk}/apply/").status_code == 202
    with pytest.raises(OutOfScope):
        import_upload(by=staff_b, community=district.a1.community, upload=upload("a.xlsx", xlsx([])))


def test_a_person_of_another_community_becomes_a_move_in_request(district, staff_a):
    elsewhere = district.b1.residents[0]
    compound = district.a1.compound.name
    rows = [person(compound, "1", "501", elsewhere.name, "户主", elsewhere.id_number)]
    job = run(import_upload(by=staff_a, community=district.a1.community, upload=upload("a.xlsx", xlsx(rows))))
    assert job.errors == [] and job.plan["transfers"] == 1 and job.plan["residents_create"] == 0
    import_apply_start(by=staff_a, job=job)
    job = import_apply(job_id=job.pk)
    elsewhere.refresh_from_db()
    assert elsewhere.community_id == district.b1.community.pk  # not moved
    transfer = ResidentTransfer.objects.get(resident=elsewhere)
    assert (transfer.status, transfer.requested_by, transfer.to_household.room) == ("pending", staff_a, "501")
    assert transfer.community_id == district.a1.community.pk
    assert AuditEntry.objects.filter(action=AuditEntry.Action.TRANSFER_LOOKUP, detail__via="import").count() == 1


@pytest.mark.parametrize("jobs", [2, 20])
def test_import_pages_keep_their_queries_flat(district, staff_a, client_for, django_assert_max_num_queries, jobs):
    community = district.a1.community
    content = xlsx(good_rows(district))
    for _ in range(jobs):
        job = import_upload(by=staff_a, community=community, upload=upload("a.xlsx", content))
    import_validate(job_id=job.pk)
    client = client_for(staff_a)
    with django_assert_max_num_queries(7):
        page = client.get(f"/registry/community/{community.pk}/import/")
    assert page.status_code == 200 and page.content.decode().count("/registry/import/") == jobs
    with django_assert_max_num_queries(6):
        assert client.get(f"/registry/import/{job.pk}/").status_code == 200


def test_jobs_and_their_sheets_go_after_the_kept_days_the_audit_lines_stay(district, staff_a, settings):
    settings.IMPORT_KEEP_DAYS = 30
    community = district.a1.community
    old = run(import_upload(by=staff_a, community=community, upload=upload("old.xlsx", xlsx(good_rows(district)))))
    recent = import_upload(by=staff_a, community=community, upload=upload("new.xlsx", xlsx(good_rows(district))))
    ImportJob.objects.filter(pk=old.pk).update(updated_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=31))
    lines = AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT).count()

    assert import_jobs_purge() == 1
    assert list(ImportJob.objects.values_list("pk", flat=True)) == [recent.pk]
    assert AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT).count() == lines
