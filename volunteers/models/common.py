"""What the volunteer models share: hour limits, the points rate, the owner path, and the
queryset that lets residents see their community's teams and activities."""

from decimal import Decimal

from django.conf import settings

from baohe.scoping import VIEW, RestrictedQuerySet, scope_filter, user_scope

HOURS_MAX = Decimal("24.00")
HOURS_MIN = Decimal("0.01")
OWNER = "volunteer__resident__user"


def points_per_hour():
    """积分 earned per approved hour (``VOLUNTEER_POINTS_PER_HOUR``, default 10)."""
    return Decimal(str(getattr(settings, "VOLUNTEER_POINTS_PER_HOUR", 10)))


def resident_community_ids(scope):
    """The communities of a resident's compounds, as a subquery (residents' scopes name compounds)."""
    from communities.models import Compound

    return Compound.objects.filter(pk__in=sorted(scope.compound_ids)).values("community_id")


class ResidentVisibleQuerySet(RestrictedQuerySet):
    """``restrict()`` as everywhere, plus the rows a resident may see (``Model.resident_q``).

    A resident's scope names their compounds and households, not their community; the model
    says which of its rows such a scope reaches (``resident_q(scope)``). Only for viewing:
    residents change these rows through services, never directly.
    """

    def restrict(self, user, action=VIEW):
        scope = user_scope(user, action)
        if scope is None or scope.everything:
            return self
        q = scope_filter(self.model.scope_paths, scope)
        if action == VIEW and scope.compound_ids and scope.user_id is not None:
            extra = self.model.resident_q(scope)
            q = extra if q is None else q | extra
        return self.none() if q is None else self.filter(q)
