from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReachConfig(AppConfig):
    name = "reach"
    verbose_name = _("联系楼栋服务人")

    def ready(self):
        # The resident's "my building" page asks this app what the resident may do with each
        # person who serves them: a consented number in full, a message (selectors.add_contacts).
        from communities.selectors import register_server_contact

        from .selectors import add_contacts

        register_server_contact(add_contacts)
