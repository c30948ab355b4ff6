"""The visits' part of 我的待办 (``baohe.todo``; registered in ``apps.py``): the plans the user
visits that fall due within the week (``selectors.my_plans``), and how many are overdue. One
aggregate query; only for users who visit (who may change something)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from accounts.models import User
from baohe.scoping import may_change_anything
from baohe.todo import WORK, TodoItem

from .models import VisitPlan
from .selectors import WEEK


def todo(user: User, now: datetime) -> list[TodoItem]:
    if not user.is_portal_staff or not may_change_anything(user):
        return []
    today = timezone.localdate(now)
    counts = VisitPlan.objects.filter(visitor_user=user, active=True).aggregate(
        due=Count("pk", filter=Q(next_due_on__lt=today + timedelta(days=WEEK))),
        overdue=Count("pk", filter=Q(next_due_on__lt=today)),
    )
    return [
        TodoItem(
            key="visits.due",
            section=WORK,
            label=gettext_lazy("本周应走访"),
            count=counts["due"],
            url=reverse("visits:mine"),
            order=30,
            urgent=bool(counts["overdue"]),
        )
    ]
