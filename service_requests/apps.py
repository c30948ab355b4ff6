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

        # Requests to accept, assigned to me, approvals and 督办 on 我的待办.
        from baohe.todo import register_todo

        from .todo import todo

        register_todo(todo)
