from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceRequestsConfig(AppConfig):
    name = "service_requests"
    verbose_name = _("诉求")

    def ready(self):
        # Errors under /open311/ that no view answered (an unknown path, a method not allowed, a
        # server error) answer the spec's error list, in JSON or XML by the path (baohe.errors).
        from baohe.errors import register_error_format

        from .open311 import error_answer, is_error_list

        register_error_format("/open311/", error_answer, is_error_list)

        from baohe.metrics import register_gauge

        from .reminders import scan_lag_seconds

        register_gauge(
            "baohe_reminder_scan_lag_seconds",
            "Seconds since the oldest request reminder that is still unclaimed fell due (0 when none is).",
            scan_lag_seconds,
        )

        # Requests on the 我的信息 page; contact and name out of them on anonymisation.
        from communities.personal_data import register_personal_data
        from communities.services import register_anonymiser

        from .personal_data import forget_person, request_sections

        register_personal_data(request_sections)
        register_anonymiser(forget_person)

        # The in-process copies of categories, communities, compounds and buildings (reference.py) are
        # dropped in every process when one of them is saved or deleted, whoever writes it.
        from django.db.models.signals import post_delete, post_save

        from communities.models import Building, Community, Compound

        from . import reference
        from .models import Category

        for model in (Category, Community, Compound, Building):
            post_save.connect(reference.invalidate, sender=model, dispatch_uid=f"reference:{model.__name__}:save")
            post_delete.connect(reference.invalidate, sender=model, dispatch_uid=f"reference:{model.__name__}:delete")

        # Requests in the top bar's search results (communities.search).
        from communities.search import Kind, register_search

        from .search import request_hits

        register_search(
            Kind(key="requests", title=_("诉求"), provider=request_hits, order=10, list_url="service_requests:queue")
        )

        # Its part of a household's timeline (communities.timeline).
        from communities.timeline import register_household_timeline

        from .selectors import household_timeline_entries

        register_household_timeline(household_timeline_entries)

        # Requests to accept, assigned to me, approvals and 督办 on 我的待办.
        from baohe.todo import register_todo

        from .todo import todo

        register_todo(todo)
