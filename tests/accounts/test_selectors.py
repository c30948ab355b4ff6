"""``accounts.selectors``: one meaning each for community staff, secretaries, street staff and
who works in a community (active users only)."""

from accounts import selectors
from accounts.models import Role
from tests.factories import RoleFactory, UserFactory


def street_staff_of(street, username="street_staff_a"):
    user = UserFactory(username=username, name="芜湖路街道工作人员")
    RoleFactory(user=user, kind=Role.Kind.STAFF, street=street, community=None)
    return user


def names(users):
    return [user.username for user in users]


def test_each_meaning_names_exactly_its_people(
    district, resident, staff_a, staff_b, staff_other_street, secretary_a, street_official_a, district_official
):
    a1, a2 = district.a1.community, district.a2.community
    street = street_staff_of(district.street_a)
    assert names(selectors.community_staff(a1)) == ["staff_a", "secretary_a"]
    assert names(selectors.community_staff(a2.pk)) == ["staff_b"]
    assert names(selectors.community_secretaries(a1)) == ["secretary_a"]
    assert names(selectors.community_secretaries(a2)) == []
    assert names(selectors.street_staff(district.street_a)) == [street.username]
    assert names(selectors.street_staff(district.street_b)) == []
    assert names(selectors.community_workers(a1)) == ["staff_a", "secretary_a", street.username]
    assert names(selectors.community_workers(district.b1.community)) == ["staff_other_street"]
    escalation = selectors.street_escalation_roles([district.street_a.pk]).values_list("user__username", flat=True)
    assert sorted(escalation) == sorted([street.username, "street_official_a"])
    assert selectors.is_secretary_of(secretary_a, a1) is True
    assert selectors.is_secretary_of(staff_a, a1.pk) is False
    assert selectors.is_secretary_of(secretary_a, a2) is False


def test_a_switched_off_account_is_nobodys_staff(district, staff_a, secretary_a):
    a1 = district.a1.community
    secretary_a.is_active = False
    secretary_a.save(update_fields=["is_active"])
    assert names(selectors.community_staff(a1)) == ["staff_a"]
    assert names(selectors.community_secretaries(a1)) == []
    assert list(selectors.secretary_roles([a1.pk])) == []


def test_a_user_with_two_roles_is_listed_once(district, staff_a):
    a1 = district.a1.community
    RoleFactory(user=staff_a, kind=Role.Kind.STAFF, street=district.street_a, community=None)
    assert names(selectors.community_workers(a1)) == ["staff_a"]
    assert selectors.community_workers(a1).count() == 1
