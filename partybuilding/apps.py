from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartybuildingConfig(AppConfig):
    name = "partybuilding"
    verbose_name = _("党建")

    def ready(self):
        # The registry's level pages count party organisation too, and the resident's
        # "my building" page lists the party members who serve the household.
        from communities.selectors import Counter, register_counter, register_server_provider

        from .models import CentralHousehold, PartyBranch, PartyGroup, PartyMember
        from .selectors import household_party_servers

        counters = (
            (
                PartyBranch,
                _("党支部"),
                {"street": "street", "community": "community", "compound": "compounds"},
            ),
            (
                PartyGroup,
                _("党小组"),
                {
                    "street": "street",
                    "community": "community",
                    "compound": "buildings__compound",
                    "building": "buildings",
                },
            ),
            (
                PartyMember,
                _("党员"),
                {
                    "street": "street",
                    "community": "community",
                    "compound": "resident__household__compound",
                    "building": "resident__household__building",
                },
            ),
            (
                CentralHousehold,
                _("中心户"),
                {
                    "street": "street",
                    "community": "community",
                    "compound": "household__compound",
                    "building": "household__building",
                },
            ),
        )
        for model, label, paths in counters:
            register_counter(Counter(key=model._meta.model_name, label=label, model=model, paths=paths))
        register_server_provider(household_party_servers)
