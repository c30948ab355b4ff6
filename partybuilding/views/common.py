"""What the party pages (and the volunteer lists built on them) share: the breadcrumbs, the
"may this user change this row" check, and the one ``?community=`` list filter."""

from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from baohe.query import read_query
from baohe.scoping import CHANGE, VIEW
from baohe.views import Crumb
from communities.models import Community

from ..forms import CommunityQuery

PAGE_SIZE = 50


def party_home_crumb(community=None):
    if community is None:
        return Crumb(_("党组织"), reverse("partybuilding:home"))
    return Crumb(community.name, f"{reverse('partybuilding:home')}?community={community.pk}")


def branch_crumbs(branch):
    return [party_home_crumb(), party_home_crumb(branch.community), branch]


def may_change(obj, user):
    return type(obj).objects.restrict(user, CHANGE).filter(pk=obj.pk).exists()


class CommunityFilterMixin:
    """``?community=<id>`` narrows a list to one community the user may see. The GET parameters
    are read once, through ``query_form`` (``CommunityQuery`` or a form built on it); a bad
    value is ignored with a notice."""

    query_form = CommunityQuery

    @cached_property
    def communities(self):
        return list(Community.objects.restrict(self.request.user, VIEW).order_by("code"))

    @cached_property
    def query(self):
        return read_query(self.request, self.query_form, communities=self.communities)

    @property
    def selected_community(self):
        return self.query["community"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(communities=self.communities, selected_community=self.selected_community)
        return context
