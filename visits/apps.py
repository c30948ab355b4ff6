from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VisitsConfig(AppConfig):
    name = "visits"
    verbose_name = _("走访")

    def ready(self):
        # Visits on the 我的信息 page; names out of visit notes on anonymisation; an archived
        # household's plans end (communities.services).
        from communities.personal_data import register_personal_data
        from communities.services import register_anonymiser, register_archive_hook

        from .personal_data import end_plans, forget_person, visit_sections

        register_personal_data(visit_sections)
        register_anonymiser(forget_person)
        register_archive_hook(end_plans)

        # A household's plans follow its flags and its central household at once: the registry's
        # and the party organisation's services call households_changed in their transaction.
        from communities.services import register_households_changed

        from .services import visit_plans_sync

        register_households_changed(visit_plans_sync)

        # Its part of a household's timeline (communities.timeline).
        from communities.timeline import register_household_timeline

        from .selectors import household_timeline_entries

        register_household_timeline(household_timeline_entries)

        # My visits due this week on 我的待办.
        from baohe.todo import register_todo

        from .todo import todo

        register_todo(todo)
