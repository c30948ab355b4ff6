"""Pages for reaching the people who serve one's building: the server's own page (consent to
publish their number, their messages), writing to a server, and a thread between the two parties."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from baohe.forms import add_service_errors
from communities.models import Resident

from . import selectors, services
from .forms import ConsentForm, MessageForm
from .models import ContactConsent, ServerRole


@login_required
def mine(request):
    """我的联系方式: for each role the signed-in person serves in, whether their number is
    published to the households they serve (give / withdraw), and their messages."""
    roles = []
    for record in selectors.own_records(request.user).select_related("household__building"):
        for role in selectors.roles_of(record):
            roles.append(
                {
                    "resident": record,
                    "role": role,
                    "label": ServerRole(role).label,
                    "consent": selectors.active_consent(record, role),
                }
            )
    threads = list(selectors.threads_for(request.user)[:50])
    return render(request, "reach/mine.html", {"roles": roles, "threads": threads})


@login_required
@require_POST
def consent(request):
    form = ConsentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("操作无效，请重试。"))
        return redirect("reach:mine")
    record = get_object_or_404(selectors.own_records(request.user), pk=form.cleaned_data["resident"])
    role = form.cleaned_data["role"]
    try:
        if form.cleaned_data["give"]:
            services.consent_give(user=request.user, resident=record, role=role)
            messages.success(request, _("已公开：您服务的住户现在可以看到并拨打您的手机号。"))
        else:
            current = ContactConsent.objects.filter(resident=record, role=role, withdrawn_at=None).first()
            if current is not None:
                services.consent_withdraw(user=request.user, consent=current)
            messages.success(request, _("已撤回：住户只能看到隐藏中间四位的号码。"))
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
    return redirect("reach:mine")


@login_required
def write(request, role, resident_pk):
    """A served resident writes to one of the people serving their building (404 otherwise)."""
    if role not in ServerRole.values:
        raise Http404
    server = get_object_or_404(Resident.objects.select_related("user"), pk=resident_pk)
    if server.user_id is None or server.user_id == request.user.pk:
        raise Http404
    if selectors.served_household_of(request.user, server, role) is None:
        raise Http404
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            message = services.message_write(
                author=request.user, server=server, role=role, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("留言已送达，对方回复后会通知您。"))
            return redirect(message.thread)
    return render(
        request,
        "reach/write.html",
        {"form": form, "server": server, "role_label": ServerRole(role).label},
    )


@login_required
def thread(request, pk):
    """One thread, for its two parties only (anyone else: 404)."""
    current = get_object_or_404(selectors.threads_for(request.user), pk=pk)
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.message_reply(user=request.user, thread=current, body=form.cleaned_data["body"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("已发送。"))
            return redirect(current)
    return render(
        request,
        "reach/thread.html",
        {
            "thread": current,
            "thread_messages": current.messages.select_related("sender"),
            "form": form,
            "is_server": current.author_id != request.user.pk,
        },
    )
