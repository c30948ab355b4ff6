"""Fuzz fixtures: the Baohe demo, committed, and the three roles the fuzzers sign in as.

Both fuzzers need the demo district (real ids, real pages) and the schemathesis run reaches it
from a live server's threads, so each test takes ``demo`` (tests/conftest.py): the demo is
seeded once per session into a template database and restored, committed, for each test in
about a second (seeded afresh on SQLite); ``transactional_db`` flushes it afterwards, so the
tests after these start empty. Requests run in autocommit, outside any test transaction: a
query that fails inside one request cannot abort the ones after it.

``fuzz_users`` is ``{"resident": user, "district_official": user, "staff": user}`` (demo logins,
password ``accounts.seed.demo.PASSWORD``); ``demo_ids`` fills the ids in URLs with real rows.
"""

import pytest
from django.apps import apps

from accounts.models import Role, User

ROLES = ("resident", "district_official", "staff")


@pytest.fixture
def fuzz_users(demo):
    return {
        "resident": User.objects.filter(roles__kind=Role.Kind.RESIDENT).order_by("pk").first(),
        "district_official": User.objects.get(username="district"),
        "staff": User.objects.get(username="staff_qinghua"),
    }


class DemoIds:
    """Which model an id in a URL names, and the first row of it a user may see.

    ``pk``/``id`` name the view's own model when it declares one; ``<name>_pk``/``<name>_id``
    name ``<name>``; otherwise the path segment before the id does (``meetings/<pk>/`` →
    Meeting, ``dashboard/<level>/<pk>/`` → the level's model). A name matches a model of the
    view's app called exactly that, ending or starting with it (``item`` → ActionItem,
    ``session`` → TrainingSession, ``report`` → ReportJob), else any model called that.
    """

    def model_for(self, kwarg, *, view_model=None, segment="", app_label=""):
        if kwarg in ("pk", "id"):
            if view_model is not None:
                return view_model
            name = segment
        else:
            name = kwarg.removesuffix("_pk").removesuffix("_id")
        name = name.replace("-", "").lower()
        name = name[:-3] + "y" if name.endswith("ies") else name.removesuffix("s")
        if not name:
            return None
        local = [m for m in apps.get_models() if m._meta.app_label == app_label]
        for match in (
            lambda m: m._meta.model_name == name,
            lambda m: m._meta.model_name.endswith(name),
            lambda m: m._meta.model_name.startswith(name),
        ):
            found = [m for m in local if match(m)]
            if found:
                return found[0]
        return next((m for m in apps.get_models() if m._meta.model_name == name), None)

    def first_id(self, model, user=None):
        """The smallest pk of ``model`` that ``user`` may see (of all rows without ``user``), or None."""
        queryset = model._default_manager.all()
        if user is not None and hasattr(queryset, "restrict"):
            try:
                queryset = queryset.restrict(user)
            except TypeError:  # a model without scope paths: everyone reads the same rows
                pass
        return queryset.order_by("pk").values_list("pk", flat=True).first()


@pytest.fixture
def demo_ids():
    return DemoIds()
