from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReachConfig(AppConfig):
    name = "reach"
    verbose_name = _("联系楼栋服务人")

    def ready(self):
        # The resident's "my building" page asks this app what the resident may do with each
        # person who serves them: a consented number in full, a message (selectors.add_contacts).
        from communities.personal_data import register_personal_data
        from communities.selectors import register_server_contact
        from communities.services import register_anonymiser

        from .personal_data import forget_person, sections
        from .selectors import add_contacts

        register_server_contact(add_contacts)
        # 我的信息 shows the person's consents and messages; anonymising them ends and scrubs both.
        register_personal_data(sections)
        register_anonymiser(forget_person)
