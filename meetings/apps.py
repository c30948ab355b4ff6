from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("协商议事")

    def ready(self):
        # My action items on 我的待办.
        from baohe.todo import register_todo

        from .todo import todo

        register_todo(todo)
