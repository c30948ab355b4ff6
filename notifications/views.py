"""The inbox: /notifications/ (newest first), open one (marks it read), mark all read, preferences.

A notification is its recipient's alone: every lookup goes through ``restrict(user)``, so
someone else's notification is a 404, exactly like a missing one (rule 1).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from baohe.query import read_query

from .forms import InboxQuery, PreferenceForm
from .models import Notification
from .services import notification_mark_read, preference_for, preference_save

PAGE_SIZE = 20


@login_required
def inbox(request):
    notifications = Notification.objects.restrict(request.user).only(
        "pk", "title", "title_text", "body", "body_text", "link", "kind", "created_at", "read_at"
    )
    query = read_query(request, InboxQuery)
    unread_only = bool(query["unread"])
    if unread_only:
        notifications = notifications.unread()
    page = Paginator(notifications.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(query["page"])
    return render(request, "notifications/inbox.html", {"page": page, "unread_only": unread_only})


@login_required
def open_notification(request, pk):
    """Mark it read and go where it points (its request, …); a link elsewhere goes back to the inbox."""
    notification = get_object_or_404(Notification.objects.restrict(request.user), pk=pk)
    notification_mark_read(user=request.user, notification_id=notification.pk)
    link = notification.link
    if link and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}, require_https=False):
        return redirect(link)
    return redirect("notifications:list")


@login_required
@require_POST
def mark_read(request, pk):
    notification = get_object_or_404(Notification.objects.restrict(request.user), pk=pk)
    notification_mark_read(user=request.user, notification_id=notification.pk)
    return redirect(_back(request))


@login_required
@require_POST
def mark_all_read(request):
    count = notification_mark_read(user=request.user)
    if count:
        messages.success(request, _("已将 %(count)d 条通知标为已读。") % {"count": count})
    return redirect(_back(request))


def _back(request):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "notifications:list"


@login_required
def preferences(request):
    current = preference_for(request.user)
    initial = {"email": current.email, "sms": current.sms, "daily_digest": current.daily_digest}
    form = PreferenceForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        preference_save(user=request.user, **form.channels())
        messages.success(request, _("通知设置已保存。"))
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form, "saved": current.pk is not None})
