"""The staff queue's hottest markup, written in Python (issue 14: < 10 ms of server CPU per
page, and the queue is the page staff keep open all day).

Django's template engine spends about 80 µs on each row of the queue's table (two dozen
variable and ``if`` nodes) and 20 µs on each ``<option>`` of the category select; these tags
write the same markup with plain string formatting, every value escaped (``html.escape``,
which Django's ``escape`` calls too). ``data-number``, ``data-status`` and ``data-due`` are what
the tests and the e2e suite read.

* ``{% queue_rows rows unassigned %}``: the ``<tr>`` of each of
  :func:`service_requests.selectors.queue_page_rows`'s dicts (names and labels already in the
  reader's language);
* ``{% category_options categories selected %}``: the category select's options (the view's
  ``category_options()``: ``(pk, name, child)``);
* ``{% queue_pills pills %}``: the status and flag filter pills with their counts (the view's
  ``status_pills`` and ``flag_pills``).
"""

from html import escape

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


def _category(row):
    if row["category_parent"]:
        return f'<span class="text-muted small">{escape(row["category_parent"])} /</span> {escape(row["category"])}'
    return escape(row["category"])


def _due(row):
    due = row["due"]
    if not due.text:
        return '<span class="text-muted">—</span>'
    icon = '<i class="bi bi-exclamation-triangle-fill"></i> ' if due.state == "overdue" else ""
    return f'{icon}{escape(due.text)}<div class="small text-muted">{escape(row["due_at"])}</div>'


def _assignee(row, unassigned):
    if not row["assignee_label"]:
        return f'<span class="text-muted">{unassigned}</span>'
    if row["assignee_kind"] and row["assignee_kind"] != "staff":
        return (
            f'{escape(row["assignee_label"])}<div class="small text-muted">{escape(row["assignee_kind_label"])}</div>'
        )
    return escape(row["assignee_label"])


def _row(row, unassigned):
    number, status, state = escape(row["number"]), escape(row["status"]), escape(row["due"].state)
    return (
        f'<tr data-number="{number}">'
        f'<td class="text-nowrap"><a class="fw-semibold text-decoration-none" href="{escape(row["url"])}">{number}</a>'
        f'<div class="small text-muted text-truncate queue-desc">{escape(row["description"])}</div></td>'
        f"<td>{_category(row)}</td>"
        f"<td>{escape(row['place'])}</td>"
        f'<td><span class="badge status-badge status-{status}" data-status="{status}">{escape(row["status_label"])}</span></td>'
        f'<td class="text-nowrap due-{state or "none"}" data-due="{state}">{_due(row)}</td>'
        f"<td>{_assignee(row, unassigned)}</td>"
        "</tr>\n"
    )


@register.simple_tag
def queue_rows(rows, unassigned):
    """The ``<tr>`` of each row (``unassigned``: the label of a row nobody handles yet)."""
    unassigned = escape(str(unassigned))
    return mark_safe("".join(_row(row, unassigned) for row in rows))  # noqa: S308 - every value escaped


@register.simple_tag
def category_options(categories, selected):
    """The ``<option>`` of each category, children indented under their parent."""
    return mark_safe(  # noqa: S308 - every value escaped
        "".join(
            f'<option value="{pk}"{" selected" if pk == selected else ""}>{"　" if child else ""}{escape(name)}</option>'
            for pk, name, child in categories
        )
    )


FLAG_ICONS = {"mine": "person-check", "due_today": "calendar-event", "supervised": "megaphone"}  # else "alarm"


def _pill(pill, flag):
    key = escape(str(pill["key"] or "all"))
    active = pill["active"]
    if flag:
        icon = f'<i class="bi bi-{FLAG_ICONS.get(pill["key"], "alarm")}"></i> '
        extra, name = f" flag-{key}", key
        alert = " badge-alert" if pill["key"] == "overdue" and pill["count"] else ""
    else:
        icon, extra, name, alert = "", "", f"status-{key}", ""
    current = ' aria-current="page"' if active else ""
    return (
        f'<li class="nav-item"><a class="nav-link{" active" if active else ""}{extra}" href="{escape(pill["url"])}"'
        f'{current} data-filter="{name}">{icon}{escape(str(pill["label"]))} '
        f'<span class="badge rounded-pill{alert}" data-count="{name}">{int(pill["count"])}</span></a></li>\n'
    )


@register.simple_tag
def queue_pills(pills, flags=False):
    """The ``<li>`` of each filter pill; ``flags``: the flag pills (分派给我, 今日到期 …) with icons."""
    return mark_safe("".join(_pill(pill, flags) for pill in pills))  # noqa: S308 - every value escaped
