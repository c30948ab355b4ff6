"""Registry import (issue 17): upload, validate with a dry run, apply in resumable batches.

- :func:`import_upload` (the page): the file passes ``baohe.imports.check_upload`` (limits,
  hostile files: a refusal stores nothing), the community must be in the user's change scope,
  then one :class:`~baohe.models.ImportJob` holds the file and one ``IMPORT`` audit line says
  who uploaded which file (name, SHA-256, size, rows); the worker is asked to validate it.
- :func:`import_validate` (the worker): every row is checked (``communities.imports``) and
  looked up by ID-number blind index in batches, district-wide; the report lists each error by
  row and column; the dry run counts what apply would create, update, leave unchanged or turn
  into 迁入 requests. Progress is written every few hundred rows.
- :func:`import_apply_start` (the page) and :func:`import_apply` (the worker): batches of
  ``IMPORT_BATCH_ROWS`` rows, each one transaction that also moves ``applied_rows`` on, so a
  failure leaves every batch whole or absent and a new run (the same task redelivered, or
  “继续导入”) starts after the last whole batch. People are matched by ID number (blind index),
  never by name; a person registered in another community becomes a 迁入 request
  (``transfers.transfer_request_from_import``), never a silent move. Applying the same file
  again changes nothing. The finished apply is one ``IMPORT`` audit line with the counts.

Each kind of sheet (``ImportJob.kind``) is an :class:`ImportKind` in ``KINDS``: its header, row
checker, template, validation and one batch's writes. The residents sheet is registered here;
party members and central households by ``partybuilding`` (``partybuilding/imports.py``, in its
``AppConfig.ready``: the registry never imports upward). Everything else is shared.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from baohe import imports as machinery
from baohe.exceptions import Conflict, OutOfScope
from baohe.jobs import enqueue_on_commit
from baohe.models import AuditEntry, ImportJob
from baohe.scoping import CHANGE
from baohe.services import audit

from ..imports import (
    COLUMNS,
    EXAMPLE_MARK,
    FLAG_HEADERS,
    Known,
    ResidentRow,
    RowChecker,
    header_map,
    is_blank,
    known_households,
    known_residents,
    living_heads,
    name_mismatch_message,
    template_book,
)
from ..models import Community, Household, Resident
from .households import households_changed
from .retention import household_archive_if_empty
from .transfers import transfer_request_from_import

if TYPE_CHECKING:
    from accounts.models import User

PROGRESS_EVERY = 500
MAX_REPORTED_ERRORS = 20_000
TRANSFER_REASON = "批量导入：居民已在本社区居住"
PLAN_KEYS = (
    "residents_create",
    "residents_update",
    "residents_unchanged",
    "transfers",
    "households_create",
    "households_update",
)
HEADERS = {column.key: column.header for column in COLUMNS}


# --- kinds of import -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportKind:
    """What one kind of sheet needs from the machinery here (upload, report, marked sheet, dry
    run, batched resumable apply, audit are shared). ``checker(community)`` has
    ``check(number, cells, columns) -> (row | None, [(header, message), ...])``;
    ``validate(job, rows)`` takes the checked rows and returns ``(errors by row, rows read,
    plan)``; ``apply_rows(job, rows, counts)`` writes one batch inside the batch's transaction;
    ``plan_labels`` are ``(key, label before apply, label after)`` for the page."""

    kind: str
    sheet_title: str
    template: Callable[[Community], Any]
    template_filename: Any  # lazy, with %(community)s
    header_map: Callable[[list[str]], tuple[dict[str, int], list[str]]]
    checker: Callable[[Community], Any]
    validate: Callable[[ImportJob, Iterator], tuple[dict[int, list[tuple[str, str]]], int, dict[str, int]]]
    apply_rows: Callable[[ImportJob, list, dict[str, int]], None]
    plan_labels: tuple[tuple[str, Any, Any], ...]


KINDS: dict[str, ImportKind] = {}


def register_kind(kind: ImportKind) -> None:
    """Add a kind of import (an app above the registry registers in its ``AppConfig.ready``)."""
    KINDS[kind.kind] = kind


def kind_of(name: str) -> ImportKind:
    """The registered kind ``name``; ``ValidationError`` (code ``kind``) for any other."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValidationError(_("不支持这种导入类型。"), code="kind") from None


def access_import_by_id(user: Any, pk: Any, action: str = CHANGE) -> ImportJob:
    """The import job ``pk`` if ``user`` may change its community, whatever ``action`` asks
    (imports are for the people who keep the registry; officials too get 404)."""
    return get_object_or_404(ImportJob.objects.restrict(user, CHANGE).select_related("community", "created_by"), pk=pk)


def import_upload(
    *, by: User, community: Community, upload, request=None, kind: str = ImportJob.Kind.RESIDENTS
) -> ImportJob:
    """Check ``upload`` and keep it as a new job of ``community`` of ``kind`` (a registered
    :class:`ImportKind`); the worker validates it."""
    if not Community.objects.restrict(by, CHANGE).filter(pk=community.pk).exists():
        raise OutOfScope(Community._meta.verbose_name)
    kind_of(kind)
    checked = machinery.check_upload(upload)
    if checked.rows == 0:
        raise machinery.ImportRefused(_("文件里没有数据行（第 1 行是表头）。"), code="no_rows")
    with transaction.atomic():
        job = ImportJob(
            kind=kind,
            created_by=by,
            filename=checked.name,
            file_format=checked.file_format,
            encoding=checked.encoding,
            sha256=checked.sha256,
            size=len(checked.content),
            content=checked.content,
            total_rows=checked.rows,
            street_id=community.street_id,
            community_id=community.pk,
        )
        job.save()
        audit(
            user=by,
            action=AuditEntry.Action.IMPORT,
            obj=job,
            request=request,
            detail={
                "stage": "upload",
                "kind": kind,
                "file": checked.name,
                "sha256": checked.sha256,
                "size": len(checked.content),
                "rows": checked.rows,
            },
        )
        enqueue_on_commit("communities.tasks.import_validate", job.pk)
    return job


# --- reading the job's rows ----------------------------------------------------------------------
class _Sheet:
    """The job's data rows, checked by its kind: ``(number, row | None, errors)``."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.kind = kind_of(job.kind)
        self.checker = self.kind.checker(job.community)
        self.columns: dict[str, int] = {}

    def rows(self):
        job = self.job
        rows = machinery.iter_rows(bytes(job.content), job.file_format, job.encoding)
        for number, cells in rows:
            if number == 1:
                self.columns, missing = self.kind.header_map(cells)
                if missing:
                    raise ValidationError(
                        _("第 1 行表头缺少这些列：%(columns)s。请使用下载的模板。") % {"columns": "、".join(missing)}
                    )
                continue
            if is_blank(cells):
                continue
            seq = self.columns.get("seq")
            if seq is not None and seq < len(cells) and cells[seq].startswith(EXAMPLE_MARK):
                continue
            row, errors = self.checker.check(number, cells, self.columns)
            yield number, row, errors


def _classify(row: ResidentRow, known: Known | None, household: Household | None, community_id: int) -> str:
    """What apply does with ``row``: create, update, unchanged, transfer (or an error message)."""
    if known is None:
        return "create"
    if known.community_id != community_id:
        if known.status != Resident.Status.LIVING:
            return _("该身份证号属于已迁出或去世的居民，请联系其原登记社区处理。")
        return "transfer"
    if known.status != Resident.Status.LIVING:
        return _("该身份证号属于本社区已迁出或去世的居民，请在居民页面处理。")
    if known.name != row.name:
        return name_mismatch_message(known)
    same = (
        household is not None
        and known.household_id == household.pk
        and known.relation == row.relation
        and known.gender == row.gender
        and known.birth_year == row.birth_year
        and (known.mobile or "") == row.mobile
    )
    return "unchanged" if same else "update"


def _household_changes(household: Household | None, flags: dict[str, bool]) -> bool:
    return household is not None and any(getattr(household, key) != value for key, value in flags.items())


# --- validate (worker) -----------------------------------------------------------------------------
def import_validate(*, job_id: int) -> ImportJob | None:
    """Check every row of the job, write the report and the dry run's counts."""
    # VALIDATING too: a worker that died part-way left it so, and the redelivered task (acks_late)
    # checks the file again from the start (validation writes nothing but the job's report).
    claimed = ImportJob.objects.filter(
        pk=job_id, status__in=(ImportJob.Status.UPLOADED, ImportJob.Status.VALIDATING)
    ).update(status=ImportJob.Status.VALIDATING, checked_rows=0, updated_at=timezone.now())
    if not claimed:
        return None  # validated already (a redelivered task) or gone
    job = ImportJob.objects.select_related("community").get(pk=job_id)
    try:
        sheet = _Sheet(job)
        errors, checked, plan = sheet.kind.validate(job, _with_progress(job, sheet.rows()))
    except (ValidationError, machinery.ImportRefused) as problem:
        return _fail(job, " ".join(problem.messages))
    report = [[number, column, message] for number in sorted(errors) for column, message in errors[number]]
    job.errors = report[:MAX_REPORTED_ERRORS]
    job.error_rows = len(errors)
    job.total_rows = checked
    job.checked_rows = checked
    job.plan = plan
    job.status = ImportJob.Status.VALIDATED
    job.finished_at = timezone.now()
    job.save(
        update_fields=[
            "errors",
            "error_rows",
            "total_rows",
            "checked_rows",
            "plan",
            "status",
            "finished_at",
            "updated_at",
        ]
    )
    return job


def _with_progress(job: ImportJob, rows: Iterator) -> Iterator:
    """``rows`` as they are, writing the job's ``checked_rows`` every few hundred."""
    for checked, item in enumerate(rows, start=1):
        yield item
        if checked % PROGRESS_EVERY == 0:
            ImportJob.objects.filter(pk=job.pk).update(checked_rows=checked)


def _validate_residents(job: ImportJob, rows: Iterator) -> tuple[dict, int, dict[str, int]]:
    """The residents sheet: each row, duplicates in the file, the registry, heads of households."""
    errors: dict[int, list[tuple[str, str]]] = defaultdict(list)
    first_by_index: dict[str, int] = {}
    households: dict[tuple, dict[str, Any]] = {}
    pending: list[ResidentRow] = []
    counts: dict[str, int] = defaultdict(int)
    checked = 0

    def resolve(batch: list[ResidentRow]) -> None:
        known = known_residents({row.id_index for row in batch})
        homes = known_households(job.community, {row.household_key for row in batch})
        for row in batch:
            home = homes.get(row.household_key)
            outcome = _classify(row, known.get(row.id_index), home, job.community_id)
            if outcome in ("create", "update", "unchanged", "transfer"):
                counts[f"residents_{outcome}" if outcome != "transfer" else "transfers"] += 1
            else:
                errors[row.number].append((HEADERS["id_number"], outcome))

    for number, row, row_errors in rows:
        checked += 1
        if row_errors:
            errors[number].extend(row_errors)
        if row is not None:
            first = first_by_index.setdefault(row.id_index, number)
            if first != number:
                errors[number].append((HEADERS["id_number"], _("与第 %(row)s 行的身份证号重复。") % {"row": first}))
                continue
            house = households.setdefault(row.household_key, {"rows": [], "heads": 0, "flags": {}})
            house["rows"].append(number)
            house["heads"] += row.relation == Resident.Relation.HEAD
            for key, value in row.flags.items():
                house["flags"][key] = house["flags"].get(key, False) or value
            pending.append(row)
            if len(pending) >= 1000:
                resolve(pending)
                pending.clear()
    if pending:
        resolve(pending)
    existing = known_households(job.community, households)
    with_head = living_heads(h.pk for h in existing.values())
    for key, house in households.items():
        home = existing.get(key)
        if home is None:
            counts["households_create"] += 1
        elif _household_changes(home, house["flags"]):
            counts["households_update"] += 1
        if house["heads"] > 1:
            for number in house["rows"]:
                errors[number].append((HEADERS["relation"], _("同一户填了多名户主。")))
        elif house["heads"] == 0 and (home is None or home.pk not in with_head):
            for number in house["rows"]:
                errors[number].append(
                    (HEADERS["relation"], _("这一户（%(rows)s 行）没有户主。") % {"rows": _row_list(house["rows"])})
                )
    return errors, checked, {key: counts[key] for key in PLAN_KEYS}


def _row_list(numbers: list[int]) -> str:
    shown = "、".join(str(n) for n in numbers[:5])
    return shown + ("…" if len(numbers) > 5 else "")


def _fail(job: ImportJob, message: str) -> ImportJob:
    job.status = ImportJob.Status.FAILED
    job.failure = message[:300]
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "failure", "finished_at", "updated_at"])
    return job


def errors_by_row(job: ImportJob) -> dict[int, list[str]]:
    """The report as ``{row: ["列：问题", …]}`` (for the marked sheet)."""
    rows: dict[int, list[str]] = defaultdict(list)
    for number, column, message in job.errors:
        rows[number].append(f"{column}：{message}")
    return rows


def import_marked_sheet(job: ImportJob) -> bytes:
    """The uploaded sheet with a 错误说明 column (``baohe.imports.marked_sheet``)."""
    return machinery.marked_sheet(
        bytes(job.content),
        job.file_format,
        job.encoding,
        errors_by_row(job),
        title=kind_of(job.kind).sheet_title,
        error_header="错误说明",
    )


# --- apply -------------------------------------------------------------------------------------------
def import_apply_start(*, by: User, job: ImportJob) -> ImportJob:
    """Start (or resume) applying a validated job without errors; the worker does the work."""
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if not ImportJob.objects.restrict(by, CHANGE).filter(pk=job.pk).exists():
            raise OutOfScope(ImportJob._meta.verbose_name)
        if not (locked.may_apply or locked.may_resume):
            raise Conflict(_("这份导入现在不能执行（%(status)s）。") % {"status": locked.get_status_display()})
        locked.status = ImportJob.Status.APPLYING
        locked.failure = ""
        locked.finished_at = None
        locked.save(update_fields=["status", "failure", "finished_at", "updated_at"])
        enqueue_on_commit("communities.tasks.import_apply", locked.pk)
    return locked


def import_apply(*, job_id: int, batch_rows: int | None = None) -> ImportJob | None:
    """Apply the job's rows from ``applied_rows`` on, one transaction per batch."""
    batch_rows = batch_rows or settings.IMPORT_BATCH_ROWS
    job = ImportJob.objects.select_related("community", "created_by").filter(pk=job_id).first()
    if job is None or job.status != ImportJob.Status.APPLYING:
        return job
    sheet = _Sheet(job)
    batch: list = []
    position = 0  # data rows read so far
    try:
        for number, row, row_errors in sheet.rows():
            position += 1
            if position <= job.applied_rows:
                continue  # applied by an earlier run
            if row is None:  # the registry changed since the check (a building renamed…)
                problems = "；".join(f"{c}：{m}" for c, m in row_errors)
                raise ValidationError(_("第 %(row)s 行：%(message)s") % {"row": number, "message": problems})
            batch.append(row)
            if len(batch) >= batch_rows:
                job = _apply_batch(job, batch, end=position)
                batch = []
        if batch:
            job = _apply_batch(job, batch, end=position)
    except (ValidationError, Conflict, machinery.ImportRefused) as problem:
        messages = problem.messages if hasattr(problem, "messages") else [str(problem)]
        done = _("已导入前 %(rows)s 行数据，其余未导入：") % {"rows": job.applied_rows}
        return _fail(job, done + " ".join(messages))
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportJob.Status.APPLYING:
            return job
        job.status = ImportJob.Status.APPLIED
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at", "updated_at"])
        audit(
            user=job.created_by,
            action=AuditEntry.Action.IMPORT,
            obj=job,
            detail={"stage": "apply", "file": job.filename, "sha256": job.sha256, "rows": job.total_rows, **job.result},
        )
    return job


def _apply_batch(job: ImportJob, rows: list, *, end: int) -> ImportJob:
    """Apply ``rows`` (data rows up to ``end``) in one transaction with the job's counter."""
    counts: dict[str, int] = defaultdict(int)
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().select_related("community", "created_by").get(pk=job.pk)
        if locked.status != ImportJob.Status.APPLYING:
            raise Conflict(_("导入已停止。"))
        if locked.applied_rows >= end:
            return locked  # another run did this batch
        skip = locked.applied_rows - (end - len(rows))
        rows = rows[max(skip, 0) :]
        kind_of(locked.kind).apply_rows(locked, rows, counts)
        result = dict(locked.result)
        for outcome, number in counts.items():
            result[outcome] = result.get(outcome, 0) + number
        locked.result = result
        locked.applied_rows = end
        locked.save(update_fields=["result", "applied_rows", "updated_at"])
    return locked


def _apply_residents(locked: ImportJob, rows: list[ResidentRow], counts: dict[str, int]) -> None:
    """One batch of the residents sheet (inside the batch's transaction)."""
    community = locked.community
    keys = {row.household_key for row in rows}
    homes = known_households(community, keys)
    flags: dict[tuple, dict[str, bool]] = defaultdict(dict)
    for row in rows:
        for name, value in row.flags.items():
            flags[row.household_key][name] = flags[row.household_key].get(name, False) or value
    new_homes = []
    for home_key in sorted(keys - homes.keys()):
        building = next(row.building for row in rows if row.household_key == home_key)
        home = Household(building=building, unit=home_key[1], room=home_key[2], **flags.get(home_key, {}))
        home.sync_scope()
        new_homes.append(home)
    Household.objects.bulk_create(new_homes)
    counts["households_create"] += len(new_homes)
    changed_homes = []
    for home_key, home in homes.items():
        if _household_changes(home, flags.get(home_key, {})):
            for name, value in flags[home_key].items():
                setattr(home, name, value)
            changed_homes.append(home)
    if changed_homes:
        Household.objects.bulk_update(changed_homes, list(FLAG_HEADERS))
    counts["households_update"] += len(changed_homes)
    homes.update({(h.building_id, h.unit, h.room): h for h in new_homes})
    # Their visit plans follow the imported flags at once, as after an edit on the page.
    households_changed(
        [h.pk for h in new_homes if any(getattr(h, name) for name in FLAG_HEADERS)] + [h.pk for h in changed_homes]
    )

    known = known_residents({row.id_index for row in rows})
    creates, updates = [], []
    moved_from: set[int] = set()
    for row in rows:
        home = homes[row.household_key]
        found = known.get(row.id_index)
        outcome = _classify(row, found, home, community.pk)
        if outcome == "create":
            resident = Resident(
                household=home,
                name=row.name,
                relation=row.relation,
                gender=row.gender,
                birth_year=row.birth_year,
                mobile=row.mobile,
                id_number=row.id_number,
                street_id=home.street_id,
                community_id=home.community_id,
            )
            creates.append(resident)
        elif outcome == "update":
            assert found is not None  # noqa: S101 - "update" means found
            if found.household_id != home.pk:
                moved_from.add(found.household_id)
            updates.append(
                Resident(
                    pk=found.pk,
                    household=home,
                    relation=row.relation,
                    gender=row.gender,
                    birth_year=row.birth_year,
                    mobile=row.mobile,
                    street_id=home.street_id,
                    community_id=home.community_id,
                )
            )
        elif outcome == "transfer":
            assert found is not None  # noqa: S101 - "transfer" means found
            made = transfer_request_from_import(
                by=locked.created_by, resident_id=found.pk, to_household=home, reason=TRANSFER_REASON, job=locked
            )
            counts["transfers" if made else "transfers_pending"] += 1
            continue
        elif outcome != "unchanged":
            raise ValidationError(_("第 %(row)s 行：%(message)s") % {"row": row.number, "message": outcome})
        counts[f"residents_{outcome}"] += 1
    Resident.objects.bulk_create(creates)
    if updates:
        Resident.objects.bulk_update(
            updates,
            [
                "household",
                "relation",
                "gender",
                "birth_year",
                "mobile",
                "mobile_index",
                "mobile_tail_index",
                "street",
                "community",
            ],
        )
    # Someone lives there again: out of the archive; a household a person moved out of
    # may be empty now (retention's rule, as a move through the pages would apply it).
    lived_in = {resident.household_id for resident in (*creates, *updates)}
    Household.objects.filter(pk__in=lived_in, archived_at__isnull=False).update(archived_at=None)
    for household_id in sorted(moved_from - lived_in):
        household_archive_if_empty(household=Household(pk=household_id))


def import_recent(user: Any, community: Community, limit: int = 20):
    """The community's latest import jobs ``user`` may see (without the file)."""
    return (
        ImportJob.objects.restrict(user, CHANGE)
        .filter(community=community)
        .select_related("created_by")
        .defer("content", "errors")[:limit]
    )


register_kind(
    ImportKind(
        kind=ImportJob.Kind.RESIDENTS,
        sheet_title="居民导入",
        template=template_book,
        template_filename=gettext_lazy("%(community)s-居民导入模板.xlsx"),
        header_map=header_map,
        checker=RowChecker,
        validate=_validate_residents,
        apply_rows=_apply_residents,
        plan_labels=(
            ("residents_create", gettext_lazy("将新增居民"), gettext_lazy("新增居民")),
            ("residents_update", gettext_lazy("将更新居民"), gettext_lazy("更新居民")),
            ("residents_unchanged", gettext_lazy("未变化"), gettext_lazy("未变化")),
            ("transfers", gettext_lazy("将发起迁入申请"), gettext_lazy("发起迁入申请")),
            ("households_create", gettext_lazy("将新增住户"), gettext_lazy("新增住户")),
            ("households_update", gettext_lazy("将更新住户"), gettext_lazy("更新住户")),
        ),
    )
)


__all__ = [
    "KINDS",
    "ImportKind",
    "access_import_by_id",
    "errors_by_row",
    "import_apply",
    "import_apply_start",
    "import_marked_sheet",
    "import_recent",
    "import_upload",
    "import_validate",
    "kind_of",
    "register_kind",
]


def import_jobs_purge(*, now=None) -> int:
    """Delete the import jobs last touched more than ``IMPORT_KEEP_DAYS`` days ago, with the
    uploaded file (which holds full ID and mobile numbers) and its report; returns how many.
    A job still validating or applying is kept. What stays is each import's audit lines: who, the
    file's name and SHA-256, and the counts. Nightly (``communities.tasks.purge_import_jobs``)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.IMPORT_KEEP_DAYS)
    due = ImportJob.objects.filter(updated_at__lt=cutoff).exclude(
        status__in=(ImportJob.Status.VALIDATING, ImportJob.Status.APPLYING)
    )
    deleted, _by_model = due.delete()
    return deleted
