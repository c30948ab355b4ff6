"""Writing notifications: dedupe keys, default channels, preferences, the bulk path of the scans."""

import pytest
from django.utils import timezone

from notifications.models import Delivery, Notification, Preference
from notifications.services import (
    Message,
    channels_by_user,
    channels_for,
    default_preference,
    notify,
    notify_many,
    preference_for,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def resident_with_mobile(resident):
    assert resident.mobile  # the persona signs in with a mobile number
    return resident


def test_notify_twice_with_the_same_key_writes_once(resident_with_mobile):
    options = {"recipient": resident_with_mobile, "kind": "test", "title": "测试", "dedupe_key": "test:1"}
    first = notify(**options)
    assert notify(**options) is None
    assert list(Notification.objects.values_list("pk", flat=True)) == [first.pk]
    assert Delivery.objects.filter(notification=first).count() == 1


def test_an_inactive_recipient_is_not_told(resident_with_mobile):
    resident_with_mobile.is_active = False
    resident_with_mobile.save(update_fields=["is_active"])
    assert notify(recipient=resident_with_mobile, kind="test", title="测试", dedupe_key="test:1") is None
    assert not Notification.objects.exists()


def test_default_channels_residents_sms_staff_inbox_only(resident_with_mobile, staff_a, admin_user):
    assert channels_for(resident_with_mobile) == ["sms"]
    assert channels_for(staff_a) == []
    assert channels_for(admin_user) == []
    resident_default = default_preference(resident_with_mobile)
    staff_default = default_preference(staff_a)
    assert (resident_default.email, resident_default.sms, resident_default.daily_digest) == (False, True, False)
    assert (staff_default.email, staff_default.sms, staff_default.daily_digest) == (False, False, True)
    assert preference_for(staff_a).pk is None  # a default is not saved until the user saves one


def test_saved_preferences_choose_the_channels(resident_with_mobile, staff_a):
    Preference.objects.create(user=resident_with_mobile, sms=True, email=True)
    Preference.objects.create(user=staff_a, sms=True, email=True)  # staff_a has an email but no mobile
    assert channels_for(resident_with_mobile) == ["email", "sms"]
    assert channels_for(staff_a) == ["email"]
    resident_with_mobile.email = ""
    assert channels_for(resident_with_mobile) == ["sms"]  # a channel needs an address


def test_channels_by_user_matches_channels_for(resident_with_mobile, staff_a, secretary_a, admin_user):
    Preference.objects.create(user=secretary_a, email=True)
    users = [resident_with_mobile, staff_a, secretary_a, admin_user]
    assert channels_by_user(u.pk for u in users) == {u.pk: channels_for(u) for u in users}


def test_notify_many_writes_each_key_once_with_its_deliveries(resident_with_mobile, staff_a, secretary_a):
    Preference.objects.create(user=secretary_a, email=True)
    inactive = UserFactory(is_active=False)
    messages = [
        Message(recipient_id=u.pk, kind="test", title="测试", dedupe_key=f"test:{u.pk}")
        for u in (resident_with_mobile, staff_a, secretary_a, inactive)
    ]
    assert notify_many(messages) == 3
    assert notify_many(messages) == 3  # again: nothing new
    rows = Notification.objects.order_by("recipient_id")
    assert [n.recipient_id for n in rows] == sorted([resident_with_mobile.pk, staff_a.pk, secretary_a.pk])
    deliveries = sorted(Delivery.objects.values_list("notification__recipient__username", "channel", "status"))
    assert deliveries == [("resident_a1", "sms", "pending"), ("secretary_a", "email", "pending")]
    assert Delivery.objects.filter(next_attempt_at__gt=timezone.now()).count() == 0
