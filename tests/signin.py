"""Signing in with the second factor from tests.

- :func:`verified_login` signs a Django test client in as a user, and for an account that needs a
  second factor also stores a verified device in the session, exactly as ``django_otp.login``
  does after a correct code (``client_for`` in tests/conftest.py uses it).
- :func:`totp_device` is the user's confirmed authenticator (created with a random secret when
  they have none); :func:`demo_device` a demo login's (``seed_baohe`` gives every non-resident
  demo login one with ``accounts.seed.demo.DEMO_TOTP_SECRET``).
- :func:`totp_code` computes a code the device will accept now with pyotp, the way an
  authenticator app would: never one the device has already accepted (django-otp refuses a
  replayed time step), waiting for the next 30-second step when it must.
"""

import time
from base64 import b32encode

import pyotp
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.models import User


def totp_device(user):
    """``user``'s confirmed authenticator, created if they have none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=two_factor.TOTP_DEVICE_NAME, confirmed=True)
    return device


def demo_device(username):
    """The demo login ``username``'s authenticator (seeded with the published demo secret)."""
    return TOTPDevice.objects.get(user__username=username, confirmed=True)


def totp_secret(device):
    return b32encode(device.bin_key).decode()


def code_for_secret(secret, *, step_offset=0):
    """The code an authenticator app shows for a base32 ``secret`` (``step_offset`` steps ahead)."""
    totp = pyotp.TOTP(secret)
    return totp.at(time.time() + step_offset * totp.interval)


def totp_code(device):
    """A code ``device`` accepts now and has not accepted before."""
    while True:
        device.refresh_from_db()
        now = int((time.time() - device.t0) // device.step)
        centre = now + device.drift
        for step in (centre, centre + 1):
            if device.last_t < step <= centre + device.tolerance:
                return pyotp.TOTP(totp_secret(device), digits=device.digits, interval=device.step).at(
                    device.t0 + step * device.step
                )
        time.sleep(device.step - (time.time() - device.t0) % device.step + 0.1)


def verified_login(client, user):
    """Sign ``client`` in as ``user``; for staff also with a verified second factor. Returns it."""
    client.force_login(user)
    if User.objects.get(pk=user.pk).needs_second_factor:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = totp_device(user).persistent_id
        session.save()
    return client
