from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteersConfig(AppConfig):
    name = "volunteers"
    verbose_name = _("志愿服务")

    def ready(self):
        # The staff household page shows the services the household received (one ledger).
        from communities.selectors import register_household_section

        from .selectors import household_section

        register_household_section(household_section)

        # Volunteer records on the 我的信息 page; skills go on anonymisation (communities.services).
        from communities.personal_data import register_personal_data
        from communities.services import register_anonymiser

        from .personal_data import forget_person, volunteer_sections

        register_personal_data(volunteer_sections)
        register_anonymiser(forget_person)

        # Its part of a household's timeline (communities.timeline).
        from communities.timeline import register_household_timeline

        from .selectors import household_timeline_entries

        register_household_timeline(household_timeline_entries)
