"""The monthly report (月度报表): one .xlsx with the standard sections, built by the worker.

A :class:`~dashboard.models.ReportJob` is created by the page (``report_request``) and its
id handed to the worker through ``baohe.jobs.enqueue_on_commit``; the task
(:func:`report_generate`) builds the workbook section by section with the requester's own
view of the district (``restrict()`` as on the page), writes the progress after each section,
stores the file under ``MEDIA_ROOT/reports/`` and marks the job done. The sections are the
page's own tables (``tables.py``) for the one month, so the report and the page agree.

Idempotent: a job that is done is not built again; a job whose worker died half way
(``acks_late`` redelivers it) is built again from the start.

The file is stamped with the requester and the time it was built (``baohe.exports.stamp``); each
download of it is one ``EXPORT`` line in the audit trail (the download view).

Jobs are not kept forever: :func:`reports_clean` (the worker, daily at 03:45) deletes the jobs
created more than ``REPORT_KEEP_DAYS`` days ago together with their files, in bounded batches.
"""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from baohe.exports import stamp, workbook_bytes
from baohe.jobs import enqueue_on_commit
from baohe.scoping import VIEW
from communities.models import Street

from . import exports, tables
from .models import ReportJob
from .places import Period, Place, district_place, require_dashboard_user, sees_whole_district
from .selectors import Dashboard

logger = logging.getLogger(__name__)

# (sheet, builder) in the report's order: the standard sections, then the rankings.
SECTIONS = (
    ("organisation", gettext_lazy("组织覆盖")),
    ("requests", gettext_lazy("诉求办理")),
    ("trend", gettext_lazy("近12个月趋势")),
    ("categories", gettext_lazy("分类统计")),
    ("top_compounds", gettext_lazy("小区排行")),
    ("children", gettext_lazy("下级排名")),
    ("visits", gettext_lazy("走访")),
    ("volunteers", gettext_lazy("志愿服务")),
    ("backbones", gettext_lazy("骨干培养")),
    ("funds", gettext_lazy("社区经费")),
    ("fund_purposes", gettext_lazy("经费用途")),
)


def report_request(*, by, month, street=None):
    """Create a report job for ``month`` of ``street`` (or the whole district) and queue it."""
    require_dashboard_user(by)
    if street is None and not sees_whole_district(by):
        raise ValidationError({"street": _("请选择街道：您只能查看本街道的数据。")})
    if street is not None and not Street.objects.restrict(by, VIEW).filter(pk=street.pk).exists():
        raise ValidationError({"street": _("您无权查看该街道。")})
    with transaction.atomic():
        job = ReportJob.objects.create(requested_by=by, street=street, month=month.replace(day=1))
        enqueue_on_commit("dashboard.tasks.generate_monthly_report", job.pk)
    return job


def _place(job):
    user = job.requested_by
    if job.street_id is None:
        return district_place(user)
    street = Street.objects.restrict(user, VIEW).select_related("district").get(pk=job.street_id)
    return Place("street", street)


def _progress(job_id, progress, step):
    ReportJob.objects.filter(pk=job_id).update(progress=progress, step=str(step)[:50])


def build_workbook(dashboard, progress=None):
    """The report's workbook as bytes: a cover sheet, then one sheet per section."""
    book = Workbook()
    cover = book.active
    cover.title = _("说明")
    title = _("%(place)s 月度报表（%(period)s）") % {"place": dashboard.place.name, "period": dashboard.period.label}
    cover.append([title])
    cover["A1"].font = Font(bold=True, size=16)
    cover.append([exports.subtitle_for(dashboard)])
    cover.append([])
    cover.append([_("章节")])
    cover["A4"].font = Font(bold=True)
    for _name, label in SECTIONS:
        cover.append([str(label)])
    cover.append([])
    for line in (
        _("响应率＝当月受理诉求中按时签收的比例；"),
        _("解决率＝当月评价中评价为“解决”的比例（部分解决不计入）；"),
        _("按期办结率＝当月办结诉求中在办结期限内办结的比例；"),
        _("满意率＝当月评价中“满意”和“基本满意”的比例；"),
        _("当前超时为生成报表时仍未办结且已超过期限的诉求。"),
    ):
        cover.append([line])
    cover.column_dimensions["A"].width = 80
    for row in cover.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=False)
    subtitle = exports.subtitle_for(dashboard)
    for index, (name, label) in enumerate(SECTIONS, start=1):
        table = tables.build(name, dashboard)
        sheet = book.create_sheet(exports.sheet_title(label))
        exports.write_sheet(sheet, table, subtitle=subtitle)
        if progress is not None:
            progress(int(90 * index / len(SECTIONS)), label)
    stamp(book, user=dashboard.user, when=dashboard.now)
    return workbook_bytes(book)


def report_generate(*, job_id):
    """Build the job's workbook (see the module docstring); returns the job."""
    claimed = ReportJob.objects.filter(
        pk=job_id, status__in=(ReportJob.Status.PENDING, ReportJob.Status.RUNNING)
    ).update(status=ReportJob.Status.RUNNING, started_at=timezone.now(), progress=1, step="", error="")
    job = ReportJob.objects.select_related("requested_by", "street").filter(pk=job_id).first()
    if not claimed or job is None:
        return job
    try:
        dashboard = Dashboard(user=job.requested_by, place=_place(job), period=Period.month(job.month))
        content = build_workbook(dashboard, progress=lambda value, step: _progress(job.pk, value, step))
        name = f"{job.month:%Y-%m}-{job.pk}-{uuid.uuid4().hex[:8]}.xlsx"
        job.file.save(name, ContentFile(content), save=False)
    except (OperationalError, InterfaceError):
        raise  # transient: the task retries
    except (DatabaseError, OSError, Http404, Street.DoesNotExist) as error:
        logger.exception("monthly report %s failed", job_id)
        ReportJob.objects.filter(pk=job.pk).update(
            status=ReportJob.Status.FAILED, error=f"{error.__class__.__name__}"[:300], finished_at=timezone.now()
        )
        job.refresh_from_db()
        return job
    ReportJob.objects.filter(pk=job.pk).update(
        status=ReportJob.Status.DONE, progress=100, step="", file=job.file.name, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


# Jobs (and files) removed per round of reports_clean(): one short query and DELETE each.
CLEAN_BATCH_SIZE = 200


def reports_clean(*, now=None, keep_days=None, batch_size=CLEAN_BATCH_SIZE):
    """Delete the report jobs created more than ``keep_days`` (``REPORT_KEEP_DAYS``) days before
    ``now`` and their files; returns how many jobs were removed.

    Batch by batch (in id order): first the files, then the rows, so a run stopped half way
    leaves rows whose file is gone, which the next run removes (a file already missing is not
    an error). A file the storage refuses to delete keeps its job for the next run.
    """
    now = now or timezone.now()
    keep_days = settings.REPORT_KEEP_DAYS if keep_days is None else keep_days
    cutoff = now - timedelta(days=keep_days)
    storage = ReportJob._meta.get_field("file").storage
    removed, last_pk = 0, 0
    while True:
        batch = list(
            ReportJob.objects.filter(created_at__lt=cutoff, pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", "file")[:batch_size]
        )
        if not batch:
            break
        last_pk = batch[-1][0]
        gone = []
        for pk, name in batch:
            if name:
                try:
                    storage.delete(name)
                except FileNotFoundError:
                    pass
                except OSError:
                    logger.warning("could not delete report file %s; job %s kept", name, pk, exc_info=True)
                    continue
            gone.append(pk)
        if gone:
            removed += ReportJob.objects.filter(pk__in=gone).delete()[1].get(ReportJob._meta.label, 0)
    if removed:
        logger.info("removed %d report jobs older than %d days", removed, keep_days)
    return removed
