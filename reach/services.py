"""Writes for reaching the people who serve one's building: giving and withdrawing the consent
to publish a number (each an audit line), and messages between a served resident and a server
(each tells the other party through the notifications outbox)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from baohe.models import AuditEntry
from baohe.services import audit
from communities.models import Resident
from notifications.services import notify

from .models import ContactConsent, ContactMessage, ContactThread
from .selectors import roles_of, served_household_of

if TYPE_CHECKING:
    from accounts.models import User

MESSAGE_KIND = "reach:message"


def consent_give(*, user: User, resident: Resident, role: str) -> ContactConsent:
    """``user`` publishes the mobile number of their own record ``resident`` to the households
    they serve in ``role``. Refused (``ValidationError``) when they do not serve in that role or
    have no number on record; giving it twice keeps the first."""
    with transaction.atomic():
        locked = Resident.objects.select_for_update().get(pk=resident.pk)
        if locked.user_id != user.pk:
            raise Http404
        if role not in roles_of(locked):
            raise ValidationError({"role": _("您没有以这个身份服务的住户。")})
        if not locked.mobile:
            raise ValidationError({"role": _("社区登记的信息里没有您的手机号，请先联系社区工作人员登记。")})
        existing = ContactConsent.objects.filter(resident=locked, role=role, withdrawn_at=None).first()
        if existing is not None:
            return existing
        consent = ContactConsent(resident=locked, role=role, given_by=user, given_at=timezone.now())
        consent.full_clean()
        consent.save()
        audit(
            user=user,
            action=AuditEntry.Action.CREATE,
            obj=consent,
            detail={"role": role, "number_kind": consent.number_kind, "consent": "given"},
        )
    return consent


def consent_withdraw(*, user: User, consent: ContactConsent) -> ContactConsent:
    """``user`` withdraws their consent: from now on the households see the masked number."""
    with transaction.atomic():
        locked = ContactConsent.objects.select_for_update().select_related("resident").get(pk=consent.pk)
        if locked.resident.user_id != user.pk:
            raise Http404
        if locked.withdrawn_at is not None:
            return locked
        locked.withdrawn_at = timezone.now()
        locked.save(update_fields=["withdrawn_at"])
        audit(
            user=user,
            action=AuditEntry.Action.UPDATE,
            obj=locked,
            changes={"withdrawn_at": [None, locked.withdrawn_at.isoformat()]},
            detail={"role": locked.role, "number_kind": locked.number_kind, "consent": "withdrawn"},
        )
    return locked


def _tell(*, recipient: User | None, thread: ContactThread, message: ContactMessage, title: str) -> None:
    notify(
        recipient=recipient,
        kind=MESSAGE_KIND,
        title=title,
        body=message.body[:200],
        link=thread.get_absolute_url(),
        dedupe_key=f"reach:message:{message.pk}",
    )


def message_write(*, author: User, server: Resident, role: str, body: str) -> ContactMessage:
    """A served resident leaves ``server`` a message (in their thread for that role). 404 when
    ``server`` does not serve one of the author's households in ``role`` or has no account."""
    with transaction.atomic():
        household = served_household_of(author, server, role)
        if household is None or not server.user_id or server.user_id == author.pk:
            raise Http404
        now = timezone.now()
        thread, _created = ContactThread.objects.select_for_update().get_or_create(
            author=author, server=server, role=role, defaults={"household": household, "last_message_at": now}
        )
        message = ContactMessage(thread=thread, sender=author, body=body)
        message.full_clean(exclude=["thread", "sender"])
        message.save()
        ContactThread.objects.filter(pk=thread.pk).update(last_message_at=now)
        _tell(
            recipient=server.user,
            thread=thread,
            message=message,
            title=_("%(name)s 给您留言") % {"name": author},
        )
    return message


def message_reply(*, user: User, thread: ContactThread, body: str) -> ContactMessage:
    """Either party answers in ``thread``; the other is told. 404 for anyone else."""
    with transaction.atomic():
        locked = (
            ContactThread.objects.restrict(user)
            .select_for_update()
            .select_related("server")
            .filter(pk=thread.pk)
            .first()
        )
        if locked is None:
            raise Http404
        message = ContactMessage(thread=locked, sender=user, body=body)
        message.full_clean(exclude=["thread", "sender"])
        message.save()
        ContactThread.objects.filter(pk=locked.pk).update(last_message_at=timezone.now())
        if user.pk == locked.author_id:
            recipient = locked.server.user
            title = _("%(name)s 给您留言") % {"name": user}
        else:
            recipient = locked.author
            title = _("%(name)s 回复了您的留言") % {"name": locked.server.name}
        _tell(recipient=recipient, thread=locked, message=message, title=title)
    return message
