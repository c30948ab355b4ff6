"""Access rules the volunteer services share: what staff may change (never through the owner
path), the staff check, scoped lookups, the signed-in resident's own records."""

from dataclasses import replace
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from baohe.scoping import CHANGE, VIEW, scope_filter, user_scope
from communities.models import Resident

from ..models import Activity, Signup, Volunteer

CENT = Decimal("0.01")


# --- access -------------------------------------------------------------------------------------
def staff_rows(model, user):
    """The rows of ``model`` that ``user`` may change as community or street staff (or admin)."""
    scope = user_scope(user, CHANGE)
    if scope is None or scope.everything:
        return model._default_manager.all()
    q = scope_filter(replace(model.scope_paths, owner=None), scope)
    return model._default_manager.none() if q is None else model._default_manager.filter(q)


def require_staff(user):
    if not (user.is_authenticated and user.is_portal_staff):
        raise PermissionDenied(_("只有社区工作人员可以进行这项操作。"))


def access_activity_by_id(user, pk, action=VIEW):
    """The activity if ``user`` may ``action`` it; the same 404 for "not yours" and "not there"."""
    if action == CHANGE:
        return get_object_or_404(staff_rows(Activity, user), pk=pk)
    return get_object_or_404(Activity.objects.restrict(user, action), pk=pk)


def access_signup_by_id(user, pk, action=VIEW):
    return get_object_or_404(Signup.objects.restrict(user, action), pk=pk)


def own_resident(user):
    """The user's registered residence (the first, if several), or ``None``."""
    return Resident.objects.filter(user_id=user.pk).order_by("id").first()


def own_volunteer(user):
    """The volunteer record of the signed-in resident, or ``None``."""
    return Volunteer.objects.filter(resident__user_id=user.pk).select_related("resident").order_by("id").first()
