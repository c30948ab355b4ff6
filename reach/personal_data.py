"""What ``reach`` holds about a person: their consents to publish their number and the messages
they wrote, for the 我的信息 page (``communities.personal_data``); and, when they are anonymised
(``communities.services.register_anonymiser``), their consents end and their messages go (a
closed account) or lose their name and numbers. Registered in ``apps.py``."""

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.personal_data import Section, Subject
from communities.services import PersonTraces

from .models import ContactConsent, ContactMessage, ContactThread


def sections(subject: Subject) -> list[Section]:
    consents = Section(
        "contact_consents",
        _("号码公开同意"),
        (
            ("role", _("身份")),
            ("number_kind", _("号码类型")),
            ("given_at", _("同意时间")),
            ("withdrawn_at", _("撤回时间")),
        ),
    )
    for consent in ContactConsent.objects.filter(resident__in=subject.records).order_by("given_at", "pk"):
        consents.add(
            role=consent.get_role_display(),
            number_kind=consent.get_number_kind_display(),
            given_at=consent.given_at,
            withdrawn_at=consent.withdrawn_at,
        )
    written = Section(
        "contact_messages", _("留言"), (("to", _("服务人")), ("created_at", _("时间")), ("body", _("内容")))
    )
    rows = ContactMessage.objects.filter(sender=subject.user).select_related("thread__server", "thread__author")
    for message in rows.order_by("created_at", "pk"):
        thread = message.thread
        to = thread.server.name if thread.author_id == subject.user.pk else str(thread.author)
        written.add(to=to, created_at=message.created_at, body=message.body)
    return [consents, written]


def forget_person(traces: PersonTraces) -> None:
    """An anonymised person's number is no longer published; a closed account's threads go,
    otherwise the person's messages keep no name or number."""
    ContactConsent.objects.filter(resident_id=traces.resident_id, withdrawn_at=None).update(withdrawn_at=timezone.now())
    mine = Q(server_id=traces.resident_id)
    if traces.user_id is not None:
        mine |= Q(author_id=traces.user_id)
    if traces.account_closed:
        ContactThread.objects.filter(mine).delete()
        return
    for message in ContactMessage.objects.filter(thread__in=ContactThread.objects.filter(mine)):
        scrubbed = traces.scrub(message.body)
        if scrubbed != message.body:
            ContactMessage.objects.filter(pk=message.pk).update(body=scrubbed)
