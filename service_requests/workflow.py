"""The request workflow, in one table: which step may be taken from which status, by whom.

Statuses: ``submitted → accepted → in_progress → resolved → closed``, with ``rejected`` (a
reason the resident reads), ``returned`` (to the street, which reroutes it back to
``submitted``) and reopening (a rating of 未解决 or 不满意 sends a resolved request back to
``in_progress``). Each row of :data:`STEPS` names a step, the statuses it may be taken from,
who may take it (:class:`Actor`), the service function in ``services.py`` that does it (named
by string: the services import this table), the label the step goes by (also in the refusal
"不能签收"), the text of the button that confirms it, and — for a step that cannot be undone
(办结, 不予受理, 退单, 标记为重复, 关闭, 撤回) — the question the page asks before taking it
(``ask``: the button carries it as ``data-confirm``, ``static/js/forms.js`` asks it).

Everything that needs the state machine reads this table:

- every step's service starts with ``services.require_step(request, step, by)``: who (404 for
  whoever may not see the request, else 403), then the status (409 ``invalid_transition``),
  then the step's own condition (:class:`Requirement`, 409);
- the staff request page (``views/staff.py``) shows a step's button when :meth:`Step.allows`
  and a POST calls the step's service;
- the API (``api.py``) has one endpoint per step, ``POST /api/v1/requests/{id}/<step>/``, all
  served by one view class that calls the step's service;
- the resident's request page offers the rating when :data:`RATE` allows it, and the
  follow-up steps (:data:`URGE`, :data:`SUPPLEMENT`, :data:`WITHDRAW`) when they allow them;
  the compound board and the similar-requests box offer :data:`SUPPORT` (我也遇到);
- a street or district official's request page offers :data:`SUPERVISE` (督办) on an overdue
  request.

``tests/service_requests/test_workflow_table.py`` walks the table through the page and the API.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import follow_up
from .models import ServiceRequest
from .models.clock import RATING_WINDOW

Status = ServiceRequest.Status
OPEN = (Status.SUBMITTED, Status.ACCEPTED, Status.IN_PROGRESS)
HANDLING = (Status.ACCEPTED, Status.IN_PROGRESS)


class Actor(enum.StrEnum):
    """Who may take a step (``services.acts_as`` decides whether a user is one)."""

    STAFF = "staff"  # community or street staff whose scope holds the request
    ASSIGNEE = "assignee"  # the user the request is assigned to
    SECRETARY = "secretary"  # the secretary of the request's community (or a superuser)
    SUBMITTER = "submitter"  # the resident who filed it
    NEIGHBOUR = "neighbour"  # another resident of the request's compound (我也遇到)
    SYSTEM = "system"  # the deadline scan (closing unrated requests)
    OFFICIAL = "official"  # a district official, or a street official of the request's street (督办)


@dataclass(frozen=True)
class Requirement:
    """A condition a step needs beyond the status, and the conflict (409) when it does not hold."""

    holds: Callable[[ServiceRequest, datetime], bool]
    message: Any  # lazy text
    code: str


def _no_pending_extension(request: ServiceRequest, now: datetime) -> bool:
    return request.extension_until is None


def _pending_extension(request: ServiceRequest, now: datetime) -> bool:
    return request.extension_until is not None


def _within_rating_window(request: ServiceRequest, now: datetime) -> bool:
    return request.resolved_at is None or now - request.resolved_at <= RATING_WINDOW


def _overdue(request: ServiceRequest, now: datetime) -> bool:
    due = request.accept_due_at if request.status == Status.SUBMITTED else request.resolve_due_at
    return due < now


def _urge_due(request: ServiceRequest, now: datetime) -> bool:
    return follow_up.urge_due(request, now)


def _urge_not_today(request: ServiceRequest, now: datetime) -> bool:
    return follow_up.urge_not_repeated(request, now)


NO_PENDING_EXTENSION = Requirement(_no_pending_extension, _("已有待审批的延期申请。"), "extension_pending")
PENDING_EXTENSION = Requirement(_pending_extension, _("没有待审批的延期申请。"), "no_extension")
WITHIN_RATING_WINDOW = Requirement(_within_rating_window, _("办结已超过 7 天，不能再评价。"), "rating_window_passed")
URGE_DUE = Requirement(
    _urge_due,
    _("诉求尚未超过办理期限，且 3 个工作日内已有进展，暂不能催办。"),
    "urge_too_early",
)
OVERDUE = Requirement(_overdue, _("诉求尚未超过办理期限，不能督办。"), "not_overdue")
URGE_ONCE_A_DAY = Requirement(_urge_not_today, _("每个工作日只能催办一次，请下一个工作日再催办。"), "urged_today")

STAFF_ONLY = _("只有本社区工作人员可以办理该诉求。")
INVALID_TRANSITION = _("该诉求当前状态为「%(status)s」，不能%(action)s。")


@dataclass(frozen=True, eq=False)
class Step:
    """One step of the workflow (a row of :data:`STEPS`)."""

    name: str
    statuses: tuple[str, ...]  # the statuses it may be taken from
    actors: tuple[Actor, ...]  # who may take it, checked in this order
    service: str  # the function in services.py that takes it
    label: Any  # lazy text: what the step is called, e.g. in "不能签收"
    confirm: Any  # lazy text: the button that confirms it
    refused: Any = STAFF_ONLY  # 403 for a user who may see the request but is none of the actors
    requires: Requirement | tuple[Requirement, ...] | None = None  # checked in order
    # A status with its own conflict instead of "invalid_transition" (e.g. accepted twice).
    conflicts: Mapping[str, tuple[Any, str]] = field(default_factory=dict)
    errors_to: str | None = None  # the input field a service error without a field belongs to
    ask: Any = None  # lazy text: the question asked before an irreversible step is taken

    @cached_property
    def run(self) -> Callable[..., ServiceRequest]:
        """The service function (``run(request=…, by=…, **input)``)."""
        return import_string(f"service_requests.services.{self.service}")

    def conflict(self, request: ServiceRequest, now: datetime) -> tuple[str, str] | None:
        """``(message, code)`` of the conflict if the step cannot be taken from the request's
        state now (status, then the step's requirement), else ``None``."""
        if request.status in self.conflicts:
            message, code = self.conflicts[request.status]
            return str(message), code
        if request.status not in self.statuses:
            status = request.get_status_display()
            return str(INVALID_TRANSITION % {"status": status, "action": self.label}), "invalid_transition"
        for requirement in self.requirements:
            if not requirement.holds(request, now):
                return str(requirement.message), requirement.code
        return None

    @property
    def requirements(self) -> tuple[Requirement, ...]:
        if self.requires is None:
            return ()
        return self.requires if isinstance(self.requires, tuple) else (self.requires,)

    def allows(self, request: ServiceRequest, actors: set[Actor] | frozenset[Actor], now: datetime) -> bool:
        """Whether someone who is ``actors`` may take the step now (a page shows its button)."""
        return any(actor in actors for actor in self.actors) and self.conflict(request, now) is None


ACCEPT = Step(
    name="accept",
    statuses=(Status.SUBMITTED,),
    actors=(Actor.STAFF,),
    service="request_accept",
    label=pgettext_lazy("verb", "签收"),
    confirm=_("确认签收"),
    conflicts={Status.ACCEPTED: (_("该诉求已被签收。"), "already_accepted")},
)
ASSIGN = Step(
    name="assign",
    statuses=HANDLING,
    actors=(Actor.STAFF,),
    service="request_assign",
    label=pgettext_lazy("verb", "分派"),
    confirm=_("确认分派"),
)
REPLY = Step(
    name="reply",  # a public reply, or an internal note (public=False)
    statuses=(*OPEN, Status.RESOLVED),
    actors=(Actor.ASSIGNEE, Actor.STAFF),
    service="request_reply",
    label=pgettext_lazy("verb", "答复"),
    confirm=_("确认答复"),
)
EXTENSION_REQUEST = Step(
    name="extension_request",
    statuses=HANDLING,
    actors=(Actor.STAFF,),
    service="request_extension_request",
    label=pgettext_lazy("verb", "申请延期"),
    confirm=_("确认申请延期"),
    requires=NO_PENDING_EXTENSION,
)
EXTENSION_DECIDE = Step(
    name="extension_decide",
    statuses=HANDLING,
    actors=(Actor.SECRETARY,),
    service="request_extension_decide",
    label=pgettext_lazy("verb", "审批延期"),
    confirm=_("确认审批延期"),
    refused=_("只有社区书记可以审批延期。"),
    requires=PENDING_EXTENSION,
)
RETURN = Step(
    name="return",
    statuses=(Status.SUBMITTED, Status.ACCEPTED),
    actors=(Actor.STAFF,),
    service="request_return",
    label=pgettext_lazy("verb", "退单"),
    confirm=_("确认退单"),
    ask=_("退单后诉求将退回街道改派，本社区不能再办理。确定退单吗？"),
)
REROUTE = Step(
    name="reroute",
    statuses=(Status.RETURNED,),
    actors=(Actor.STAFF,),
    service="request_reroute",
    label=pgettext_lazy("verb", "改派"),
    confirm=_("确认改派"),
)
RESOLVE = Step(
    name="resolve",
    statuses=HANDLING,
    actors=(Actor.STAFF,),
    service="request_resolve",
    label=pgettext_lazy("verb", "办结"),
    confirm=_("确认办结"),
    errors_to="photos",  # the photo checks answer without a field
    ask=_("办结后将请居民评价，办结不能撤回。确定办结吗？"),
)
REJECT = Step(
    name="reject",
    statuses=OPEN,
    actors=(Actor.STAFF,),
    service="request_reject",
    label=pgettext_lazy("verb", "不予受理"),
    confirm=_("确认不予受理"),
    ask=_("不予受理后诉求即结束，不能撤回。确定不予受理吗？"),
)
DUPLICATE = Step(
    name="duplicate",
    statuses=OPEN,
    actors=(Actor.STAFF,),
    service="request_mark_duplicate",
    label=pgettext_lazy("verb", "标记为重复"),
    confirm=_("确认标记为重复"),
    ask=_("标记为重复后诉求将与原诉求合并办理，不能撤回。确定标记为重复吗？"),
)
CLOSE = Step(
    name="close",
    statuses=(Status.RESOLVED,),
    actors=(Actor.STAFF, Actor.SYSTEM),
    service="request_close",
    label=pgettext_lazy("verb", "关闭"),
    confirm=_("确认关闭"),
    ask=_("关闭后诉求不能再办理。确定关闭吗？"),
)
RATE = Step(
    name="rate",
    statuses=(Status.RESOLVED,),
    actors=(Actor.SUBMITTER,),
    service="request_rate",
    label=pgettext_lazy("verb", "评价"),
    confirm=_("提交评价"),
    refused=_("只有提交人可以评价该诉求。"),
    requires=WITHIN_RATING_WINDOW,
)
FOLLOW_UP = Step(
    name="follow_up",
    statuses=(Status.RESOLVED,),
    actors=(Actor.STAFF,),
    service="request_follow_up",
    label=pgettext_lazy("verb", "回访"),
    confirm=_("确认回访"),
)

SUPERVISE = Step(
    name="supervise",  # 督办: an official urges the community on the record, with a note and a new date
    statuses=OPEN,
    actors=(Actor.OFFICIAL,),
    service="request_supervise",
    label=_("督办"),
    confirm=_("确认督办"),
    refused=_("只有区、街道领导可以督办。"),
    requires=OVERDUE,
)

# --- the resident's follow-up (follow_up.py has the rules of time) --------------------------------
URGE = Step(
    name="urge",  # 催办: after the deadline, or 3 working days without progress; once a working day
    statuses=OPEN,
    actors=(Actor.SUBMITTER,),
    service="request_urge",
    label=pgettext_lazy("verb", "催办"),
    confirm=_("确认催办"),
    refused=_("只有提交人可以催办该诉求。"),
    requires=(URGE_DUE, URGE_ONCE_A_DAY),
)
SUPPLEMENT = Step(
    name="supplement",  # 补充说明: text and photos, in the timeline
    statuses=OPEN,
    actors=(Actor.SUBMITTER,),
    service="request_supplement",
    label=pgettext_lazy("verb", "补充说明"),
    confirm=_("提交补充说明"),
    refused=_("只有提交人可以补充说明。"),
    errors_to="photos",
)
WITHDRAW = Step(
    name="withdraw",  # 撤回: before the community accepts it, with a reason
    statuses=(Status.SUBMITTED,),
    actors=(Actor.SUBMITTER,),
    service="request_withdraw",
    label=pgettext_lazy("verb", "撤回"),
    confirm=_("确认撤回"),
    refused=_("只有提交人可以撤回该诉求。"),
    ask=_("撤回后社区将不再办理该诉求，不能恢复。确定撤回吗？"),
)
SUPPORT = Step(
    name="support",  # 我也遇到 (附议): a neighbour follows an open request instead of filing another
    statuses=OPEN,
    actors=(Actor.NEIGHBOUR,),
    service="request_support",
    label=pgettext_lazy("verb", "附议"),
    confirm=_("我也遇到"),
    refused=_("只有本小区的其他居民可以附议。"),
)

STEPS: dict[str, Step] = {
    step.name: step
    for step in (
        ACCEPT,
        ASSIGN,
        REPLY,
        EXTENSION_REQUEST,
        EXTENSION_DECIDE,
        RETURN,
        REROUTE,
        RESOLVE,
        REJECT,
        DUPLICATE,
        CLOSE,
        RATE,
        FOLLOW_UP,
        SUPERVISE,
        URGE,
        SUPPLEMENT,
        WITHDRAW,
        SUPPORT,
    )
}
