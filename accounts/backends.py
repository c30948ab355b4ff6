"""Sign in with a username (staff) or a mobile number (residents) in the same form; the mobile
number is found through its blind index (``baohe.crypto``), never compared in plain text."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Q

from baohe.crypto import blind_index


class UsernameOrMobileBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user_model = get_user_model()
        username = username.strip()
        index = blind_index("mobile", username)
        user = (
            user_model._default_manager.filter(
                Q(username=username) | Q(mobile_index=index) if index else Q(username=username)
            )
            .order_by("id")
            .first()
        )
        if user is None:
            user_model().set_password(password)  # same work as a real check: no timing difference
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
