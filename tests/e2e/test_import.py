"""Registry import in a real browser, on the demo's 清华社区 (issue 17's "Done when").

One walk: 清华社区's staff download the template, fill it with 300 residents of whom 12 are
wrong, upload it, read the report naming each bad row and why, download the marked sheet, fix
those rows in it, upload it again, read the dry run, apply it with the progress bar, and find
the new residents in the registry. The worker runs each task at once in the server's thread
(``task_always_eager``, as tests/dashboard/test_report.py does): the page shows the finished
progress bar, which is what a real worker's last poll shows.
"""

import pytest
from openpyxl import load_workbook

from accounts.seed.demo import PASSWORD
from baohe.celery import app as celery_app
from baohe.models import AuditEntry, ImportJob
from baohe.validators import id_check_char
from communities.models import Building, Community, Household, Resident
from communities.seed.demo import QINGHUA

pytestmark = pytest.mark.e2e


@pytest.fixture
def eager():
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


def new_id(serial, year=1985, male=True):
    first17 = f"340104{year:04d}0315{serial % 500 * 2 + (1 if male else 0):03d}"[:17]
    return first17 + id_check_char(first17)


def sheet_rows(buildings):
    """100 new households (a free room on each floor: room x09) × head, spouse, child = 300 rows."""
    slots = [(b, floor) for b in buildings for floor in range(1, (b.floors or 6) + 1)][:100]
    rows = []
    for index, (building, floor) in enumerate(slots):
        room = f"{floor}09"
        base = index * 3
        for offset, (relation, gender, year, male) in enumerate(
            (("户主", "男", 1970, True), ("配偶", "女", 1972, False), ("子女", "男", 2000, True))
        ):
            serial = base + offset
            rows.append(
                {
                    "小区": QINGHUA,
                    "楼栋号": building.number,
                    "单元": "1",
                    "房号": room,
                    "姓名": f"导入{serial:03d}",
                    "与户主关系": relation,
                    "性别": gender,
                    "身份证号": new_id(serial, year, male),
                    "手机号": f"1990000{serial:04d}",
                }
            )
    return rows


BAD = {
    # data index -> (column, bad value); row number on the sheet = index + 3 (header, example row).
    # Never a head (index % 3 == 0): a head's bad row would leave its household without one.
    4: ("身份证号", "wrong-checksum"),
    20: ("身份证号", "wrong-checksum"),
    41: ("手机号", "12345"),
    58: ("手机号", "2990000123"),
    70: ("楼栋号", "99"),
    88: ("楼栋号", "88"),
    101: ("身份证号", "duplicate"),
    130: ("出生日期", "1999-09-09"),
    151: ("与户主关系", "表哥"),
    170: ("性别", "女"),
    202: ("单元", "9"),
    241: ("房号", "99909"),
}


def fill(sheet, rows, headers, *, bad):
    """Write ``rows`` from row 3 on (row 2 is the template's example), spoiling the BAD ones."""
    columns = {name: index + 1 for index, name in enumerate(headers)}
    for index, row in enumerate(rows):
        values = {**row, "出生日期": None}
        if bad and index in BAD:
            column, value = BAD[index]
            if value == "wrong-checksum":
                ident = values["身份证号"]
                value = ident[:-1] + ("0" if ident[-1] != "0" else "1")
            elif value == "duplicate":
                value = rows[index - 3]["身份证号"]  # the child of the household before
            values[column] = value
        for name, value in values.items():
            sheet.cell(row=index + 3, column=columns[name]).value = value


def test_staff_import_300_residents_with_a_report_a_fix_a_dry_run_and_apply(
    demo, eager, desktop_page, live_server, login, shot, tmp_path
):
    page = desktop_page
    community = Community.objects.get(name="清华社区")
    buildings = list(Building.objects.filter(compound__name=QINGHUA).order_by("pk"))
    residents_before = Resident.objects.filter(community=community).count()

    # Staff land on 我的待办; 辖区浏览 in the sidebar opens their community, with 批量导入.
    login(page, live_server, "staff_qinghua", PASSWORD)
    assert page.url == f"{live_server.url}/todo/"
    with page.expect_navigation():
        page.locator("#sidebar").get_by_role("link", name="辖区浏览").click()
    assert page.url == f"{live_server.url}{community.get_absolute_url()}"
    with page.expect_navigation():
        page.get_by_test_id("import-link").click()
    assert page.url == f"{live_server.url}/registry/community/{community.pk}/import/"
    shot(page, "import-01-home")

    # The template: the community's compounds in the drop-downs, the header, the example row.
    with page.expect_download() as template_download:
        page.get_by_test_id("import-template").click()
    template_path = tmp_path / "template.xlsx"
    template_download.value.save_as(template_path)
    book = load_workbook(template_path)
    assert book.sheetnames == ["居民导入", "选项", "楼栋清单", "填写说明"]
    sheet = book["居民导入"]
    headers = [str(c.value).rstrip("*") for c in sheet[1]]
    assert headers[:6] == ["序号", "小区", "楼栋号", "单元", "房号", "姓名"]
    assert sheet["A2"].value == "示例"
    compounds = sorted(community.compounds.values_list("name", flat=True))
    assert [c.value for c in book["选项"]["A"][1:] if c.value] == compounds  # this community's only
    assert book["楼栋清单"].max_row == Building.objects.filter(community=community).count() + 1
    assert {"独居老人", "出生日期"} <= set(headers)

    # 300 residents, 12 of them wrong.
    rows = sheet_rows(buildings)
    assert len(rows) == 300
    fill(sheet, rows, headers, bad=True)
    first = tmp_path / "清华园居民.xlsx"
    book.save(first)
    page.get_by_test_id("import-upload").locator("input[type=file]").set_input_files(str(first))
    with page.expect_navigation():
        page.get_by_test_id("import-upload").locator("button[type=submit]").click()
    status = page.get_by_test_id("import-status")
    assert status.get_attribute("data-status") == "validated"
    assert "需要修改" in page.get_by_test_id("import-has-errors").inner_text()
    report_rows = page.get_by_test_id("import-report").locator("tbody tr")
    bad_rows = sorted({int(r) for r in report_rows.evaluate_all("rows => rows.map(r => r.dataset.row)")})
    # 12 spoiled rows; the duplicate is reported on its second row, the first row is fine.
    assert bad_rows == sorted(index + 3 for index in BAD)
    report = page.get_by_test_id("import-report").inner_text()
    for words in (
        "身份证号校验位不正确",
        "请输入 11 位中国大陆手机号码",
        "没有 99 号楼栋",
        "与第 101 行的身份证号重复",
        "与身份证号中的",
        "应为 户主、配偶",
        "性别与身份证号不符",
        "只有",
        "没有这个房号",
    ):
        assert words in report, words
    assert page.get_by_test_id("import-apply").count() == 0
    shot(page, "import-02-report")

    # The marked sheet: the same rows with an error column; fix the 12 rows in it and upload it again.
    with page.expect_download() as marked_download:
        page.get_by_test_id("import-marked").click()
    marked_path = tmp_path / "marked.xlsx"
    marked_download.value.save_as(marked_path)
    marked_book = load_workbook(marked_path)
    marked = marked_book.active
    error_column = len(headers) + 1
    assert marked.cell(row=1, column=error_column).value == "错误说明"
    noted = sorted(r for r in range(3, marked.max_row + 1) if marked.cell(row=r, column=error_column).value)
    assert noted == bad_rows
    assert "楼栋号" in marked.cell(row=70 + 3, column=error_column).value
    fill(marked, rows, headers, bad=False)
    fixed = tmp_path / "清华园居民-改正.xlsx"
    marked_book.save(fixed)
    assert AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT, object_type="baohe.importjob.marked").count() == 1

    with page.expect_navigation():
        page.get_by_role("link", name="重新上传").click()
    page.get_by_test_id("import-upload").locator("input[type=file]").set_input_files(str(fixed))
    with page.expect_navigation():
        page.get_by_test_id("import-upload").locator("button[type=submit]").click()
    plan = page.get_by_test_id("import-plan")
    assert "试运行结果" in plan.inner_text()
    assert plan.locator("[data-count=residents_create]").inner_text() == "300"
    assert plan.locator("[data-count=households_create]").inner_text() == "100"
    assert plan.locator("[data-count=residents_update]").inner_text() == "0"
    assert Resident.objects.filter(community=community).count() == residents_before  # a dry run writes nothing
    shot(page, "import-03-dry-run")

    with page.expect_navigation():
        page.get_by_test_id("import-apply").click()
    status = page.get_by_test_id("import-status")
    assert status.get_attribute("data-status") == "applied"
    assert page.get_by_test_id("import-progress").get_attribute("aria-valuenow") == "100"
    assert page.get_by_test_id("import-result").locator("[data-count=residents_create]").inner_text() == "300"
    shot(page, "import-04-applied")
    job = ImportJob.objects.get(status=ImportJob.Status.APPLIED)
    assert AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT, object_id=str(job.pk)).count() == 2
    assert Resident.objects.filter(community=community).count() == residents_before + 300

    # The new residents are in the registry: one of the new households, its three people.
    household = Household.objects.get(building=buildings[0], unit=1, room="109")
    page.goto(f"{live_server.url}{household.get_absolute_url()}")
    main = page.locator("main").inner_text()
    assert all(name in main for name in ("导入000", "导入001", "导入002"))
    assert "19900000000" not in main  # the mobile is masked
    shot(page, "import-05-household")
