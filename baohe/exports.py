"""Every Excel export's shared machinery (issue 12): the stamp, the audit line, the answer.

An export view builds its workbook as before, then answers with :func:`export_response`, which

1. stamps the workbook (:func:`stamp`): the exporting user (a mobile-number username masked) and
   the time in the document properties (creator, last modified by, created, description) and in
   every sheet's printed header, so a file found on a desk says who took it out and when;
2. writes exactly one ``AuditEntry(action=EXPORT)``: ``object_type`` is the table, ``detail``
   ``{"table", "rows", "filters", "privileged"}``, the reason of a privileged export, the client IP;
3. answers the ``.xlsx`` as an attachment (``Cache-Control: no-store`` comes from
   ``baohe.headers`` for every signed-in answer).

Every file also passes :func:`neutralise_formulas` (in :func:`workbook_bytes`, which every export
and the worker's monthly report use): a text cell that starts with ``=``, ``+``, ``-`` or ``@``
(what a spreadsheet would run as a formula: CSV/Excel injection, a resident typing
``=HYPERLINK(…)`` into a request) is written as text with a leading apostrophe
(:func:`neutralise_cell`), never as a formula.

Personal numbers in an export are masked (``baohe.personal``) unless the user chose a
*privileged* export with a reason (:class:`PrivilegedExportForm`), which only users who may
change the rows get (the view checks that with ``restrict(user, "change")``).
"""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from typing import Any

from django import forms
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from .masking import redact_numbers
from .models import AuditEntry
from .personal import RevealReason
from .services import audit

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def exported_by(user: AbstractBaseUser) -> str:
    """How a file names who exported it: the name and the username (a mobile number masked)."""
    username = redact_numbers(user.get_username())
    name = getattr(user, "name", "") or ""
    return f"{name}（{username}）" if name and name != username else username


def stamp_line(user: AbstractBaseUser, when: datetime) -> str:
    return _("导出人：%(user)s　导出时间：%(when)s") % {
        "user": exported_by(user),
        "when": timezone.localtime(when).strftime("%Y-%m-%d %H:%M:%S"),
    }


def stamp(book: Workbook, *, user: AbstractBaseUser, when: datetime | None = None, privileged: bool = False) -> None:
    """Write who exported ``book`` and when into its properties and every sheet's printed header."""
    when = when or timezone.now()
    line = stamp_line(user, when)
    if privileged:
        line = f"{line}　{_('含完整个人信息，请妥善保管')}"
    props = book.properties
    props.creator = exported_by(user)[:255]
    props.lastModifiedBy = exported_by(user)[:255]
    props.created = timezone.localtime(when).replace(tzinfo=None)
    props.modified = props.created
    props.description = line
    props.keywords = "privileged" if privileged else "masked"
    for sheet in book.worksheets:
        sheet.oddHeader.right.text = line
        sheet.evenHeader.right.text = line


#: What a spreadsheet program takes as the start of a formula (OWASP "CSV injection"), and the
#: tab and carriage return some of them skip before looking.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """``value`` safe to put in a cell: text that a spreadsheet would run as a formula gets a
    leading apostrophe; anything else (numbers, dates, other text) is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise_formulas(book: Workbook) -> None:
    """Every text cell of ``book`` through :func:`neutralise_cell`, typed as text (openpyxl
    would otherwise save a value starting with ``=`` as a formula). Write-only sheets are
    written already: their cells go through :func:`neutralise_cell` when they are made."""
    for sheet in book.worksheets:
        if not hasattr(sheet, "iter_rows"):
            continue
        for row in sheet.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, str) and value.startswith(FORMULA_STARTS):
                    cell.value = neutralise_cell(value)
                    cell.data_type = "s"


def workbook_bytes(book: Workbook) -> bytes:
    neutralise_formulas(book)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_response(
    *,
    request: HttpRequest,
    book: Workbook,
    filename: str,
    table: str,
    rows: int,
    filters: dict[str, Any] | None = None,
    privileged: bool = False,
    reason: str = "",
    place: models.Model | None = None,
    place_ids: tuple[int | None, int | None] | None = None,
    detail: dict[str, Any] | None = None,
) -> HttpResponse:
    """Stamp ``book``, audit the export once and answer it as an attachment.

    ``table`` names what was exported (``communities.resident``, ``dashboard.list.visit_plans``…),
    ``rows`` how many data rows the file holds, ``filters`` the query that chose them (plain JSON
    values), ``place`` the street or community it covers (places the audit line for the scoped
    audit page; ``scope_ids()``) or ``place_ids`` the ``(street_id, community_id)`` itself;
    ``detail`` further facts for the audit line (e.g. that the file was truncated).
    """
    user = request.user
    if not isinstance(user, AbstractBaseUser):  # export views are for signed-in users only
        raise PermissionDenied
    stamp(book, user=user, privileged=privileged)
    content = workbook_bytes(book)
    street_id, community_id = place_ids or (None, None)
    if place is not None and hasattr(place, "scope_ids"):
        street_id, community_id = place.scope_ids()
    export_audit(
        request=request,
        table=table,
        rows=rows,
        filters=filters,
        privileged=privileged,
        reason=reason,
        filename=filename,
        street_id=street_id,
        community_id=community_id,
        detail=detail,
    )
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


def export_audit(
    *,
    request: HttpRequest,
    table: str,
    rows: int,
    filters: dict[str, Any] | None = None,
    privileged: bool = False,
    reason: str = "",
    filename: str = "",
    object_id: str = "",
    street_id: int | None = None,
    community_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """The one ``EXPORT`` line of an export (for a file built elsewhere, e.g. by the worker)."""
    user = request.user
    return audit(
        user=user if isinstance(user, AbstractBaseUser) else None,
        action=AuditEntry.Action.EXPORT,
        request=request,
        object_type=table,
        object_id=object_id,
        object_repr=filename,
        reason=reason,
        detail={
            "table": table,
            "rows": rows,
            "filters": plain_filters(filters),
            "privileged": privileged,
            **(detail or {}),
        },
        street_id=street_id,
        community_id=community_id,
    )


def plain_filters(filters: dict[str, Any] | None) -> dict[str, Any]:
    """``filters`` as JSON values (rows become their ids, dates ISO text); empty values left out."""
    result: dict[str, Any] = {}
    for key, value in (filters or {}).items():
        if value in (None, "", [], ()):
            continue
        if isinstance(value, models.Model):
            value = value.pk
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        elif not isinstance(value, bool | int | float | str):
            value = str(value)
        result[key] = value
    return result


class PrivilegedExportForm(forms.Form):
    """The choice of a privileged export (full personal numbers) and its reason."""

    privileged = forms.BooleanField(label=gettext_lazy("导出完整号码"), required=False)
    reason = forms.ChoiceField(
        label=gettext_lazy("导出原因"), choices=[("", "—"), *RevealReason.choices], required=False
    )

    def clean(self):
        data = super().clean()
        if data.get("privileged") and not data.get("reason"):
            self.add_error("reason", _("导出完整号码须选择原因。"))
        if not data.get("privileged"):
            data["reason"] = ""
        return data
