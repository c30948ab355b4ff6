"""Template context shared by every page: the portal name and the user's place."""

from django.conf import settings


def portal(request):
    return {"PORTAL_NAME": settings.PORTAL_NAME}
