"""The request being answered, for the audit trail's client address (``baohe.services.audit_request``).

Services deep in a call chain (a request step, a volunteer sign-up) write audit lines without
being handed the HTTP request; their line still carries the client address of the request that
caused it. Explicit ``request=`` arguments win; the worker and commands have none.
"""

from .services import audit_request


class AuditRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with audit_request(request):
            return self.get_response(request)
