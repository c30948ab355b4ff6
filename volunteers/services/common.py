"""Access rules the volunteer services share: what staff may change (never through the owner
path), the staff check, scoped lookups, the signed-in resident's own records."""

from dataclasses import replace
from decimal import Decimal
from typing import TypeVar, cast

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from accounts.models import User
from baohe.models import BaseModel
from baohe.scoping import CHANGE, VIEW, scope_filter, user_scope
from communities.models import Resident

from ..models import Activity, Signup, Volunteer

CENT = Decimal("0.01")
M = TypeVar("M", bound=BaseModel)


# --- access -------------------------------------------------------------------------------------
def staff_rows(model: type[M], user: User) -> QuerySet[M]:
    """The rows of ``model`` that ``user`` may change as community or street staff (or admin)."""
    rows = cast("QuerySet[M]", model._default_manager.all())
    scope = user_scope(user, CHANGE)
    if scope is None or scope.everything:
        return rows
    q = scope_filter(replace(model.scope_paths, owner=None), scope)
    return rows.none() if q is None else rows.filter(q)


def require_staff(user: User) -> None:
    if not (user.is_authenticated and user.is_portal_staff):
        raise PermissionDenied(_("只有社区工作人员可以进行这项操作。"))


def access_activity_by_id(user: User, pk: int, action: str = VIEW) -> Activity:
    """The activity if ``user`` may ``action`` it; the same 404 for "not yours" and "not there"."""
    if action == CHANGE:
        return get_object_or_404(staff_rows(Activity, user), pk=pk)
    return get_object_or_404(Activity.objects.restrict(user, action), pk=pk)


def access_signup_by_id(user: User, pk: int, action: str = VIEW) -> Signup:
    return get_object_or_404(Signup.objects.restrict(user, action), pk=pk)


def own_resident(user: User) -> Resident | None:
    """The user's registered residence (the first, if several), or ``None``."""
    return Resident.objects.filter(user_id=user.pk).order_by("id").first()


def own_volunteer(user: User) -> Volunteer | None:
    """The volunteer record of the signed-in resident, or ``None``."""
    return Volunteer.objects.filter(resident__user_id=user.pk).select_related("resident").order_by("id").first()
