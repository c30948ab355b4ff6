"""The meetings' part of 我的待办 (``baohe.todo``; registered in ``apps.py``): the decision action
items the user is responsible for and has not finished, and how many are past their date. One
aggregate query (``selectors.action_item_counts``); only for users who may change something."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy

from accounts.models import User
from baohe.scoping import may_change_anything
from baohe.todo import WORK, TodoItem

from .selectors import action_item_counts


def todo(user: User, now: datetime) -> list[TodoItem]:
    if not user.is_portal_staff or not may_change_anything(user):
        return []
    counts = action_item_counts(user, mine=True, today=timezone.localdate(now))
    return [
        TodoItem(
            key="meetings.action_items",
            section=WORK,
            label=gettext_lazy("我负责的决议事项"),
            count=counts["open"],
            url=f"{reverse('meetings:actions')}?{urlencode({'state': 'open', 'mine': '1'})}",
            order=40,
            urgent=bool(counts["overdue"]),
        )
    ]
