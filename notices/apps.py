from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = _("通知公告")

    def ready(self):
        # An anonymised person's SMS of a notice (sent to their number, no account) goes.
        from communities.services import register_anonymiser

        from .personal_data import forget_person

        register_anonymiser(forget_person)

        # Its part of a household's timeline (communities.timeline).
        from communities.timeline import register_household_timeline

        from .selectors import household_timeline_entries

        register_household_timeline(household_timeline_entries)
