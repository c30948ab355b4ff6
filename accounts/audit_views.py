"""The 审计日志 page and its Excel export (readers and filters in ``accounts.selectors``).

A community secretary reads their community's lines, a street official their street's, district
officials and administrators every line; other staff get 403 (residents too, as on every staff
page). Filters (``accounts.forms.AuditQuery``): person, record (type and id), action and a date
range; a value that does not parse is dropped with a notice. The export writes the filtered
lines (newest first, at most ``EXPORT_MAX_ROWS``) with the reader and the time in its header,
and is itself one EXPORT line of the trail.
"""

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from baohe.exports import export_response, stamp_line
from baohe.models import AuditEntry
from baohe.query import read_query
from baohe.views import PagedListView, StaffRequiredMixin, query_without_page, staff_required

from .forms import AuditQuery
from .selectors import audit_entries_filter, audit_entries_for, audit_readable, place_of

PAGE_SIZE = 50
EXPORT_MAX_ROWS = 10000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def type_label(object_type: str) -> str:
    """The verbose name of the model ``object_type`` (``app.model``) names (else the text itself)."""
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type


def field_label(object_type: str, name: str) -> str:
    """The verbose name of field ``name`` of the model ``object_type`` names (else ``name``)."""
    try:
        model = apps.get_model(object_type)
        return str(model._meta.get_field(name).verbose_name)
    except (LookupError, ValueError, FieldDoesNotExist, AttributeError):
        return name


def change_rows(entry: AuditEntry) -> list[tuple[str, object, object]]:
    """``[(field label, old, new)]`` of a line's ``changes`` (no query: labels come from the models)."""
    rows = []
    for name, values in (entry.changes or {}).items():
        old, new = (values + [None, None])[:2] if isinstance(values, list) else (None, values)
        rows.append((field_label(entry.object_type, name), old, new))
    return rows


def _entries(request):
    if not audit_readable(request.user):
        raise PermissionDenied
    query = read_query(request, AuditQuery)
    entries = audit_entries_filter(audit_entries_for(request.user), **query)
    return entries.select_related("community", "street"), query


class AuditLogView(StaffRequiredMixin, PagedListView):
    template_name = "accounts/audit_log.html"
    context_object_name = "entries"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        entries, self.query = _entries(self.request)
        return entries

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for entry in context["entries"]:
            entry.change_rows = change_rows(entry)
            entry.type_label = type_label(entry.object_type) if entry.object_type else ""
        query_string = query_without_page(self.request)
        context.update(
            form=AuditQuery(self.request.GET or None),
            query_string=query_string,
            export_url=f"{reverse('accounts:audit_export')}?{query_string}",
        )
        return context


def _text(value) -> str:
    return "" if value is None else str(value)


@staff_required
def audit_export(request):
    """The filtered lines as an Excel workbook; the export is itself audited (EXPORT)."""
    entries, query = _entries(request)
    rows = list(entries[: EXPORT_MAX_ROWS + 1])
    truncated = len(rows) > EXPORT_MAX_ROWS
    rows = rows[:EXPORT_MAX_ROWS]
    now = timezone.localtime()
    book = Workbook()
    sheet = book.active
    sheet.title = _("审计日志")
    sheet.append([_("审计日志"), stamp_line(request.user, now)])
    header = [
        _("时间"),
        _("人员"),
        _("操作"),
        _("记录类型"),
        _("记录编号"),
        _("记录"),
        _("事由"),
        _("变更内容"),
        _("社区"),
        _("IP 地址"),
    ]
    sheet.append(header)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for entry in rows:
        changes = "；".join(f"{label}: {_text(old)} → {_text(new)}" for label, old, new in change_rows(entry))
        sheet.append(
            [
                timezone.localtime(entry.created_at).strftime("%Y-%m-%d %H:%M:%S"),
                entry.username,
                entry.get_action_display(),
                entry.object_type,
                entry.object_id,
                entry.object_repr,
                entry.reason_label,
                changes,
                _text(entry.community or entry.street or ""),
                entry.ip_address or "",
            ]
        )
    if truncated:
        sheet.append([_("仅导出最近的 %(count)s 条，请缩小筛选范围。") % {"count": EXPORT_MAX_ROWS}])
    return export_response(
        request=request,
        book=book,
        filename=_("审计日志-%(date)s.xlsx") % {"date": now.strftime("%Y%m%d")},
        table=AuditEntry._meta.label_lower,
        rows=len(rows),
        filters=query,
        place_ids=place_of(request.user),
        detail={"truncated": truncated},
    )
