from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartybuildingConfig(AppConfig):
    name = "partybuilding"
    verbose_name = _("党建")

    def ready(self):
        # The registry's level pages count party organisation too (each model's path to its
        # street, community, compound and building is its ``scope_paths``), and the resident's
        # "my building" page lists the party members who serve the household
        # (``selectors.household_party_servers``).
        from communities.selectors import Counter, register_counter, register_server_provider

        # The party members and central households sheet is a kind of the registry import.
        from . import imports  # noqa: F401
        from .models import CentralHousehold, PartyBranch, PartyGroup, PartyMember
        from .selectors import household_party_servers

        for model, label in (
            (PartyBranch, _("党支部")),
            (PartyGroup, _("党小组")),
            (PartyMember, _("党员")),
            (CentralHousehold, _("中心户")),
        ):
            register_counter(Counter.of(model, label))
        register_server_provider(household_party_servers)
