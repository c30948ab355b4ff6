"""Scope (rule 1): what residents, volunteers and staff of each community reach, on pages and
the API. Out of scope looks exactly like missing (404)."""

import pytest
from django.urls import reverse

from volunteers.models import Activity, Signup, VolunteerTeam

from .factories import ServiceHoursFactory, SignupFactory

pytestmark = pytest.mark.django_db


def visible(user, model=Activity):
    return set(model.objects.restrict(user).values_list("pk", flat=True))


# --- residents --------------------------------------------------------------------------------------
def test_resident_sees_public_activities_of_their_compound_and_community_and_their_teams(vol, resident):
    # resident = v1, a member of team_a1.
    assert visible(resident) == {
        vol.activity_a1.pk,
        vol.compound_activity_a1.pk,
        vol.private_a1.pk,
    }


def test_a_resident_outside_the_team_does_not_see_its_private_activity(vol, resident_b):
    assert visible(resident_b) == {vol.activity_a1.pk, vol.compound_activity_a1.pk}


def test_a_compound_activity_is_not_shown_to_other_compounds(vol, district, resident_a2):
    other_compound = Activity.objects.create(
        project=vol.project_a2,
        compound=district.a2.compound,
        title="宁国小区义剪",
        place="宁国小区",
        starts_at=vol.activity_a2.starts_at,
        ends_at=vol.activity_a2.ends_at,
        signup_deadline=vol.activity_a2.signup_deadline,
        capacity=5,
    )
    assert visible(resident_a2) == {vol.activity_a2.pk, other_compound.pk}


def test_residents_see_the_teams_of_their_community(vol, resident_a2):
    assert visible(resident_a2, VolunteerTeam) == {vol.team_a2.pk}


def test_a_signup_keeps_its_activity_visible_after_leaving_the_team(vol, resident):
    SignupFactory(activity=vol.private_a1, volunteer=vol.v1)
    vol.team_a1.memberships.filter(volunteer=vol.v1).delete()
    assert vol.private_a1.pk in visible(resident)


@pytest.mark.parametrize("name", ["my_activity"])
def test_resident_pages_404_outside(vol, resident_b, client_for, name):
    client = client_for(resident_b)
    for activity in (vol.private_a1, vol.activity_a2, vol.private_a2):
        assert client.get(reverse(f"volunteers:{name}", args=[activity.pk])).status_code == 404
        response = client.post(reverse("volunteers:my_signup", args=[activity.pk]))
        assert response.status_code == 404
    assert not Signup.objects.exists()
    assert client.get(reverse("volunteers:my_activity", args=[vol.activity_a1.pk])).status_code == 200


def test_resident_cannot_join_another_communitys_team_by_post(vol, resident, client_for):
    response = client_for(resident).post(reverse("volunteers:my_team_join", args=[vol.team_a2.pk]))
    assert response.status_code == 404


def test_residents_own_rows_only(vol, resident, resident_b):
    mine = ServiceHoursFactory(volunteer=vol.v1, project=vol.project_a1)
    ServiceHoursFactory(volunteer=vol.v3, project=vol.project_a1)
    from volunteers.models import ServiceHours

    assert visible(resident, ServiceHours) == {mine.pk}
    assert visible(resident_b, ServiceHours) == set(
        ServiceHours.objects.exclude(pk=mine.pk).values_list("pk", flat=True)
    )


def test_residents_are_refused_staff_pages(vol, resident, client_for):
    client = client_for(resident)
    for url in (
        reverse("volunteers:activities"),
        reverse("volunteers:activity", args=[vol.activity_a1.pk]),
        reverse("volunteers:hours"),
        reverse("volunteers:teams"),
        reverse("volunteers:hours_export"),
        reverse("partybuilding:backbones"),
    ):
        assert client.get(url).status_code == 403, url


# --- staff ----------------------------------------------------------------------------------------------
STAFF_PAGES = ("activity", "activity_edit")


def test_staff_of_another_community_gets_404_on_a1(vol, staff_b, client_for):
    client = client_for(staff_b)
    for activity in (vol.activity_a1, vol.private_a1):
        for name in STAFF_PAGES:
            assert client.get(reverse(f"volunteers:{name}", args=[activity.pk])).status_code == 404
        assert (
            client.post(
                reverse("volunteers:activity_signup", args=[activity.pk]), {"volunteer": vol.vb1.pk}
            ).status_code
            == 404
        )
        assert client.post(reverse("volunteers:activity_check_in", args=[activity.pk])).status_code == 404
    assert client.get(reverse("volunteers:team", args=[vol.team_a1.pk])).status_code == 404
    assert client.get(reverse("volunteers:volunteer", args=[vol.v1.pk])).status_code == 404
    signup = SignupFactory(activity=vol.activity_a1, volunteer=vol.v1)
    assert client.post(reverse("volunteers:signup_cancel", args=[signup.pk])).status_code == 404
    signup.refresh_from_db()
    assert signup.status == Signup.Status.CONFIRMED


def test_staff_of_another_community_sees_none_of_a1_in_lists(vol, staff_b, client_for):
    response = client_for(staff_b).get(reverse("volunteers:activities"))
    assert [a.pk for a in response.context["activities"]] == [vol.activity_a2.pk, vol.private_a2.pk]


def test_api_404s_for_another_community(vol, staff_b, resident_b, api_client_for):
    staff = api_client_for(staff_b)
    for activity in (vol.activity_a1, vol.private_a1):
        assert staff.get(f"/api/v1/activities/{activity.pk}/").status_code == 404
        response = staff.post(f"/api/v1/activities/{activity.pk}/signup/", {"volunteer": vol.vb1.pk}, format="json")
        assert response.status_code == 404
    resident = api_client_for(resident_b)
    assert resident.post(f"/api/v1/activities/{vol.private_a1.pk}/signup/", {}, format="json").status_code == 404
    assert resident.get(f"/api/v1/activities/{vol.private_a1.pk}/").status_code == 404
    assert resident.post(f"/api/v1/volunteer-teams/{vol.team_a2.pk}/join/", {}, format="json").status_code == 404
    assert not Signup.objects.exists()


def test_street_official_reads_both_communities_but_changes_nothing(vol, street_official_a, client_for, api_client_for):
    response = client_for(street_official_a).get(reverse("volunteers:activities"))
    assert {a.pk for a in response.context["activities"]} == {
        vol.activity_a1.pk,
        vol.compound_activity_a1.pk,
        vol.private_a1.pk,
        vol.activity_a2.pk,
        vol.private_a2.pk,
    }
    response = api_client_for(street_official_a).patch(
        f"/api/v1/activities/{vol.activity_a1.pk}/", {"capacity": 5}, format="json"
    )
    assert response.status_code == 403
