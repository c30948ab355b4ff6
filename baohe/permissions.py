"""DRF permissions shared by the API's base views.

:class:`ApiDocsAccess` guards the OpenAPI schema (``/api/schema/``) and its Swagger UI
(``/api/docs/``): they describe every endpoint and field the portal has, so only signed-in portal
staff (staff, secretaries, officials, administrators) read them. ``API_DOCS_PUBLIC=true`` opens
them to anyone (a development machine, say). drf-spectacular applies it through
``SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"]``.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission


class ApiDocsAccess(BasePermission):
    message = _("接口文档仅供社区工作人员查看。")

    def has_permission(self, request, view):
        if settings.API_DOCS_PUBLIC:
            return True
        user = request.user
        return bool(user and user.is_authenticated and (user.is_portal_staff or user.is_staff))
