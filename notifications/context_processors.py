"""The unread counter in the navigation bar: one COUNT query, only when a page shows it."""

from django.utils.functional import SimpleLazyObject

from .models import Notification


def inbox(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: Notification.objects.restrict(user).unread().count())}
