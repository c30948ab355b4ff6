"""The monthly report (月度报表): requested on the page, built by the worker with a progress the
page polls, downloaded by its requester, and — read back with openpyxl — the same sections
and numbers as the dashboard for that month."""

from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import Role
from accounts.roles import roles_changed
from baohe.celery import app as celery_app
from dashboard.models import ReportJob
from dashboard.reports import SECTIONS, report_generate, reports_clean
from dashboard.tasks import clean_reports, generate_monthly_report

SHEETS = [
    "说明",
    "组织覆盖",
    "诉求办理",
    "近12个月趋势",
    "分类统计",
    "小区排行",
    "下级排名",
    "走访",
    "志愿服务",
    "骨干培养",
    "社区经费",
    "经费用途",
]


@pytest.fixture
def eager():
    """The worker runs the task at once, in this process (as with CELERY_TASK_ALWAYS_EAGER)."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def sheet_rows(sheet):
    """The data rows of a section sheet: below the title, subtitle and header, up to the note."""
    rows = []
    for row in sheet.iter_rows(min_row=4, values_only=True):
        if all(value is None for value in row):
            break
        rows.append(list(row))
    return rows


def page_rows(client, url):
    table = client.get(url).json()
    rows = []
    for row in table["rows"]:
        values = []
        for cell in row:
            value = cell["value"]
            if cell["kind"] in ("hours", "money"):
                value = float(Decimal(value))  # hours and yuan come as exact decimal strings
            values.append(value)
        rows.append(values)
    return table, rows


def test_request_build_download_and_read_back(
    story, district, street_official_a, client_for, eager, media, django_capture_on_commit_callbacks
):
    client = client_for(street_official_a)
    street = district.street_a
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post("/dashboard/reports/", {"month": "2025-03", "place": f"street:{street.pk}"})
    assert len(callbacks) == 1
    job = ReportJob.objects.get()
    assert response["Location"] == f"/dashboard/reports/{job.pk}/"
    assert (job.status, job.progress) == (ReportJob.Status.DONE, 100)
    assert job.file.name.startswith("reports/2025-03-")
    assert (media / job.file.name).exists()

    progress = client.get(job.get_absolute_url(), headers={"HX-Request": "true"})
    assert 'data-status="done"' in progress.content.decode()
    assert "hx-trigger" not in progress.content.decode()  # finished: the page stops polling

    download = client.get(f"/dashboard/reports/{job.pk}/download/")
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    assert "filename*=utf-8''" in download["Content-Disposition"].lower()
    book = load_workbook(BytesIO(b"".join(download.streaming_content)))
    assert book.sheetnames == SHEETS
    assert book["说明"]["A1"].value == "芜湖路街道 月度报表（2025年3月）"

    base = f"/dashboard/street/{street.pk}/table"
    for name, label in SECTIONS:
        sheet = book[str(label)]
        table, expected = page_rows(client, f"{base}/{name}/?from=2025-03&to=2025-03")
        assert sheet["A1"].value == table["title"], name
        assert [c.value for c in sheet[3]][: len(table["columns"])] == table["columns"], name
        assert sheet_rows(sheet) == (expected or [["暂无数据"] + [None] * (len(table["columns"]) - 1)]), name

    kpis = {row[0]: row[1] for row in sheet_rows(book["诉求办理"])}
    assert kpis["受理诉求"] == 7  # street A in March: r1 r2 r3 r4 r5 r6 r8
    assert kpis["响应率"] == 4 / 7  # r1 r3 r4 r5
    assert book["诉求办理"]["B5"].number_format == "0.0%"
    assert book["诉求办理"]["A3"].fill.fgColor.rgb.endswith("C8161D")


def test_the_page_polls_until_the_worker_is_done(story, district, district_official, client_for, media):
    job = ReportJob.objects.create(requested_by=district_official, month=date(2025, 4, 1))
    client = client_for(district_official)
    page = client.get(job.get_absolute_url()).content.decode()
    assert 'hx-trigger="every 1s"' in page and 'data-status="pending"' in page
    generate_monthly_report(job.pk)  # the worker
    partial = client.get(job.get_absolute_url(), headers={"HX-Request": "true"}).content.decode()
    assert 'data-status="done"' in partial and "下载月度报表" in partial
    job.refresh_from_db()
    first = job.file.name
    generate_monthly_report(job.pk)  # delivered twice: nothing is built again
    job.refresh_from_db()
    assert (job.status, job.file.name) == (ReportJob.Status.DONE, first)
    book = load_workbook(media / job.file.name)
    assert sheet_rows(book["下级排名"])[0][1] == "芜湖路街道"  # the district report ranks the streets
    assert book["说明"]["A1"].value == "包河区 月度报表（2025年4月）"


def test_a_requester_who_lost_access_gets_a_failed_job(district, street_official_a, media):
    job = ReportJob.objects.create(requested_by=street_official_a, street=district.street_a, month=date(2025, 3, 1))
    Role.objects.filter(user=street_official_a).delete()
    roles_changed(street_official_a.pk)
    street_official_a.__dict__.pop("_roles_cache", None)
    report_generate(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ReportJob.Status.FAILED
    assert not job.file


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"month": "", "place": "district"}, "请选择月份"),
        ({"month": "2025-13", "place": "district"}, "请选择月份"),
        ({"month": "2099-01", "place": "district"}, "不能生成未来月份的报表"),
        ({"month": "2025-03", "place": "street:999999"}, "不在可用的选项中"),
    ],
)
def test_bad_report_requests_change_nothing(data, error, district_official, client_for, clock):
    response = client_for(district_official).post("/dashboard/reports/", data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert ReportJob.objects.count() == 0


# --- old reports are removed (dashboard.tasks.clean_reports, daily at 03:45) ---------------------
def old_job(user, days, content=b"xlsx", status=ReportJob.Status.DONE):
    """A report job created ``days`` days ago, with its file in storage (unless ``content`` is None)."""
    job = ReportJob.objects.create(requested_by=user, month=date(2025, 3, 1), status=status)
    if content is not None:
        job.file.save(f"2025-03-{job.pk}.xlsx", ContentFile(content))
    ReportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(days=days))
    job.refresh_from_db()
    return job


def test_reports_older_than_the_keep_window_are_removed_with_their_files(district_official, media, settings):
    settings.REPORT_KEEP_DAYS = 90
    old = old_job(district_official, days=91)
    recent = old_job(district_official, days=89)
    missing = old_job(district_official, days=120)
    (media / missing.file.name).unlink()  # its file is already gone
    failed = old_job(district_official, days=200, content=None, status=ReportJob.Status.FAILED)
    assert (media / old.file.name).exists() and (media / recent.file.name).exists()

    assert clean_reports.run() == 3

    assert list(ReportJob.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not default_storage.exists(old.file.name)
    assert not (media / old.file.name).exists()
    assert (media / recent.file.name).read_bytes() == b"xlsx"
    assert not ReportJob.objects.filter(pk__in=(old.pk, missing.pk, failed.pk)).exists()
    assert clean_reports.run() == 0  # nothing left to remove


def test_the_keep_window_follows_the_setting_and_batches_cover_everything(district_official, media, settings):
    jobs = [old_job(district_official, days=days) for days in (31, 40, 50, 60, 70)]
    keep = old_job(district_official, days=29)
    assert reports_clean(keep_days=90) == 0
    settings.REPORT_KEEP_DAYS = 30
    assert reports_clean(batch_size=2) == 5
    assert list(ReportJob.objects.values_list("pk", flat=True)) == [keep.pk]
    assert not any((media / job.file.name).exists() for job in jobs)
    assert reports_clean(now=timezone.now() + timedelta(days=2), keep_days=30) == 1


def test_a_removed_report_can_no_longer_be_downloaded(district_official, client_for, media):
    job = old_job(district_official, days=100)
    client = client_for(district_official)
    assert client.get(f"/dashboard/reports/{job.pk}/download/").status_code == 200
    clean_reports.run()
    assert client.get(f"/dashboard/reports/{job.pk}/download/").status_code == 404
    assert client.get(job.get_absolute_url()).status_code == 404


def test_beat_cleans_reports_at_a_quarter_to_four():
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "dashboard.tasks.clean_reports"]
    assert len(entries) == 1
    assert entries[0]["schedule"] == crontab(hour=3, minute=45)
    assert entries[0]["options"]["expires"] > 0
