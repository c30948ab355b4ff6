"""What the volunteer pages share: a service's refusal as a message, the breadcrumb home, and
the lists' ``?community=`` filter carried over to the pagination links."""

from contextlib import contextmanager

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy

from baohe.exceptions import Conflict
from baohe.views import Crumb
from partybuilding.views.common import CommunityFilterMixin

PAGE_SIZE = 50


@contextmanager
def service_messages(request):
    """Show a service's conflict or validation error as a message (nothing was written)."""
    try:
        yield
    except Conflict as error:
        messages.error(request, str(error.message))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)


def home_crumb():
    return Crumb(gettext_lazy("志愿服务"), reverse("volunteers:activities"))


class CommunityListMixin(CommunityFilterMixin):
    """partybuilding's ``?community=`` filter, and the list's parsed parameters carried over to
    the pagination links (``page_query``)."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        params = {key: getattr(value, "pk", value) for key, value in self.query.items() if value not in (None, "")}
        context["page_query"] = f"{urlencode(params)}&" if params else ""
        return context
