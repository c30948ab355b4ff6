"""Who is told how: a user's channels (inbox always; email and SMS by their preference, or the
defaults: residents by SMS, staff by the inbox and a daily digest email)."""

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import Role, User

from ..models import Delivery, Preference

LOOKUP_CHUNK = 500  # keys per IN (...) list


def default_preference(user: User, *, is_staff: bool | None = None) -> Preference:
    """The unsaved preference a user has until they save their own: residents are told by SMS,
    staff read the inbox and get the daily digest email."""
    staff = user.is_portal_staff if is_staff is None else is_staff
    return Preference(user=user, email=False, sms=not staff, daily_digest=staff)


def preference_for(user: User) -> Preference:
    """The user's saved preference, or the default one (unsaved)."""
    return Preference.objects.filter(user=user).first() or default_preference(user)


def _channels(*, email_on: bool, sms_on: bool, email: str | None, mobile: str | None) -> list[str]:
    channels: list[str] = []
    if email_on and email:
        channels.append(Delivery.Channel.EMAIL)
    if sms_on and mobile:
        channels.append(Delivery.Channel.SMS)
    return channels


def channels_for(user: User) -> list[str]:
    """The sending channels (besides the inbox) a user receives notifications on."""
    preference = preference_for(user)
    return _channels(email_on=preference.email, sms_on=preference.sms, email=user.email, mobile=user.mobile)


def channels_of_users(users: QuerySet[User]) -> dict[int, list[str]]:
    """``{user_id: [channel, …]}`` for the *active* users of ``users`` (any queryset of users: a
    list of ids, or "the staff of this community" as a subquery), in one query: the staff flag
    of the default preference is read with an ``EXISTS`` on their roles."""
    staff_role = Role.objects.filter(user_id=OuterRef("pk"), kind__in=Role.Kind.staff_kinds())
    rows = (
        users.filter(is_active=True)
        .annotate(is_staff_member=Exists(staff_role))
        .values_list(
            "pk",
            "email",
            "mobile",
            "is_superuser",
            "is_staff_member",
            "notification_preference__pk",
            "notification_preference__email",
            "notification_preference__sms",
        )
    )
    result: dict[int, list[str]] = {}
    for pk, email, mobile, superuser, staff, pref_pk, pref_email, pref_sms in rows:
        if pref_pk is None:  # the defaults of default_preference()
            pref_email, pref_sms = False, not (superuser or staff)
        result[pk] = _channels(email_on=pref_email, sms_on=pref_sms, email=email, mobile=mobile)
    return result


def channels_by_user(user_ids: Iterable[int]) -> dict[int, list[str]]:
    """``{user_id: [channel, …]}`` for the *active* users among ``user_ids`` (one query per
    :data:`LOOKUP_CHUNK` ids)."""
    ids = list(set(user_ids))
    result: dict[int, list[str]] = {}
    for start in range(0, len(ids), LOOKUP_CHUNK):
        result.update(channels_of_users(User.objects.filter(pk__in=ids[start : start + LOOKUP_CHUNK])))
    return result


def preference_save(*, user: User, email: bool, sms: bool, daily_digest: bool) -> Preference:
    """Save the user's channels; the form validates (e.g. email needs an address)."""
    preference, _created = Preference.objects.update_or_create(
        user=user, defaults={"email": email, "sms": sms, "daily_digest": daily_digest}
    )
    return preference
