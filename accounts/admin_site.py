"""The Django admin site, requiring a verified second factor (django-otp's ``OTPAdminSite``).

A signed-in user whose session is not verified is treated as not staff by the site; the admin's
own login form asks for the password and a code. The site keeps the name ``admin`` so every
``admin:`` URL stays as it was.
"""

from django_otp.admin import OTPAdminSite


class VerifiedAdminSite(OTPAdminSite):
    def __init__(self, name="admin"):
        super().__init__(name)
