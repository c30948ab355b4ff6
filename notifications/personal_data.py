"""What notifications holds about a person: their channel preferences for the 我的信息 page
(``communities.personal_data``), and, when they are anonymised, their inbox goes
(``communities.services.register_anonymiser``). Registered in ``apps.py``."""

from django.utils.translation import gettext as _

from communities.personal_data import Section, Subject
from communities.services import PersonTraces

from .models import Notification, Preference


def preference_sections(subject: Subject) -> list[Section]:
    section = Section(
        "notification_preferences",
        _("通知设置"),
        (("inbox", _("站内信")), ("email", _("邮件通知")), ("sms", _("短信通知")), ("daily_digest", _("每日汇总邮件"))),
    )
    preference = Preference.objects.filter(user=subject.user).first() or Preference(user=subject.user)
    section.add(inbox=True, email=preference.email, sms=preference.sms, daily_digest=preference.daily_digest)
    return [section]


def forget_person(traces: PersonTraces) -> None:
    """The inbox of a closed account: its texts quote the person's requests; nobody reads it again."""
    if traces.account_closed:
        Notification.objects.filter(recipient_id=traces.user_id).delete()
