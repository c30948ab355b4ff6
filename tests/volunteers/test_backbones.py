"""千万工程: annual targets per street, progress against them (per street and community,
selected and trained), the academy's sessions and attendance sheet, and their scope."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from partybuilding import selectors, services
from partybuilding.models import Attendance, Backbone, BackboneTarget
from tests.factories import BackboneFactory

from .factories import AttendanceFactory, BackboneTargetFactory, CourseFactory, TrainingSessionFactory

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year
PARTY, MASS = Backbone.Kind.PARTY, Backbone.Kind.MASS


@pytest.fixture
def backbones(district):
    """Street A: A1 has 3 party + 2 mass (2 party and 1 mass trained), A2 1 party + 4 mass
    (none trained); last year A1 had 5 more party. Street B: 2 mass. Targets: A 10/20 this
    year and 4/4 last year; B none."""
    a1, a2, b1 = district.a1.residents, district.a2.residents, district.b1.residents
    rows = {
        "a1_party": [BackboneFactory(resident=a1[i], kind=PARTY, year=YEAR) for i in range(3)],
        "a1_mass": [BackboneFactory(resident=a1[i], kind=MASS, year=YEAR) for i in range(3, 5)],
        "a2_party": [BackboneFactory(resident=a2[0], kind=PARTY, year=YEAR)],
        "a2_mass": [BackboneFactory(resident=a2[i], kind=MASS, year=YEAR) for i in range(1, 5)],
        "b1_mass": [BackboneFactory(resident=b1[i], kind=MASS, year=YEAR) for i in range(2)],
        "a1_last_year": [BackboneFactory(resident=a1[i], kind=PARTY, year=YEAR - 1) for i in range(5)],
    }
    BackboneTargetFactory(street=district.street_a, year=YEAR, party_quota=10, mass_quota=20)
    BackboneTargetFactory(street=district.street_a, year=YEAR - 1, party_quota=4, mass_quota=4)
    session = TrainingSessionFactory(street=district.street_a)
    second = TrainingSessionFactory(street=district.street_a, community=district.a1.community)
    AttendanceFactory(session=session, backbone=rows["a1_party"][0])
    AttendanceFactory(session=second, backbone=rows["a1_party"][0])  # trained twice, counted once
    AttendanceFactory(session=session, backbone=rows["a1_party"][1])
    AttendanceFactory(session=session, backbone=rows["a1_mass"][0])
    AttendanceFactory(session=session, backbone=rows["a2_mass"][0], attended=False)  # absent
    rows["session"], rows["second"] = session, second
    return rows


def progress_by_street(user, year=YEAR):
    rows, totals = selectors.backbone_progress(user, year)
    return {row["place"].name: row for row in rows}, totals


def test_progress_per_street_matches_the_records(backbones, district, district_official):
    rows, totals = progress_by_street(district_official)

    street_a = rows["芜湖路街道"]
    assert {k: street_a[k] for k in ("party", "mass", "party_trained", "mass_trained")} == {
        "party": Backbone.objects.filter(street=district.street_a, year=YEAR, kind=PARTY).count(),
        "mass": Backbone.objects.filter(street=district.street_a, year=YEAR, kind=MASS).count(),
        "party_trained": 2,
        "mass_trained": 1,
    }
    assert (street_a["party"], street_a["mass"]) == (4, 6)
    assert (street_a["party_quota"], street_a["mass_quota"]) == (10, 20)
    assert (street_a["party_percent"], street_a["mass_percent"]) == (40.0, 30.0)
    street_b = rows["望湖城街道"]
    assert (street_b["party"], street_b["mass"], street_b["party_quota"], street_b["party_percent"]) == (
        0,
        2,
        None,
        None,
    )
    assert (totals["party"], totals["mass"], totals["party_quota"], totals["mass_quota"]) == (4, 8, 10, 20)


def test_targets_are_per_year(backbones, district, district_official):
    rows, _totals = progress_by_street(district_official, YEAR - 1)
    street_a = rows["芜湖路街道"]
    assert (street_a["party"], street_a["mass"], street_a["party_quota"], street_a["mass_quota"]) == (5, 0, 4, 4)
    assert street_a["party_percent"] == 125.0

    duplicate = BackboneTarget(street=district.street_a, year=YEAR, party_quota=1, mass_quota=1)
    with pytest.raises(ValidationError) as error:
        duplicate.full_clean()
    assert error.value.message_dict == {"year": ["该街道这一年度已有目标，请修改原有目标。"]}
    BackboneTarget(street=district.street_b, year=YEAR, party_quota=1, mass_quota=1).full_clean()


def test_street_page_per_community(backbones, district, street_official_a, client_for):
    response = client_for(street_official_a).get(
        reverse("partybuilding:backbone_street", args=[district.street_a.pk]), {"year": YEAR}
    )
    assert response.status_code == 200
    rows = {
        row["place"].name: (row["party"], row["party_trained"], row["mass"], row["mass_trained"])
        for row in response.context["rows"]
    }
    assert rows == {"曙光社区": (3, 2, 2, 1), "宁国路社区": (1, 0, 4, 0)}
    total = response.context["total"]
    assert (total["party"], total["mass"], total["party_quota"], total["party_percent"]) == (4, 6, 10, 40.0)
    assert len(response.context["backbones"]) == 10


def test_community_staff_see_their_community_beside_the_street_target(backbones, district, staff_a, client_for):
    client = client_for(staff_a)
    response = client.get(reverse("partybuilding:backbones"), {"year": YEAR})
    assert response.status_code == 302
    assert (
        response["Location"] == f"{reverse('partybuilding:backbone_street', args=[district.street_a.pk])}?year={YEAR}"
    )

    response = client.get(response["Location"])
    assert [row["place"].name for row in response.context["rows"]] == ["曙光社区"]
    assert response.context["total"] is None  # not the whole street
    assert response.context["target"].party_quota == 10
    assert response.context["can_edit_target"] is False
    assert {b.community_id for b in response.context["backbones"]} == {district.a1.community.pk}


def test_other_street_is_404(backbones, district, staff_other_street, client_for):
    response = client_for(staff_other_street).get(reverse("partybuilding:backbone_street", args=[district.street_a.pk]))
    assert response.status_code == 404


def test_street_staff_set_and_edit_targets(district, client_for):
    from accounts.models import Role
    from tests.factories import RoleFactory, UserFactory

    user = UserFactory(username="street_staff_a")
    RoleFactory(user=user, kind=Role.Kind.STAFF, street=district.street_a, community=None)
    client = client_for(user)
    url = reverse("partybuilding:backbone_target_add")
    response = client.post(url, {"street": district.street_a.pk, "year": YEAR, "party_quota": 80, "mass_quota": 800})
    assert response.status_code == 302
    target = BackboneTarget.objects.get(street=district.street_a, year=YEAR)
    assert (target.party_quota, target.mass_quota) == (80, 800)

    response = client.post(url, {"street": district.street_a.pk, "year": YEAR, "party_quota": 1, "mass_quota": 1})
    assert {k: [str(e) for e in v] for k, v in response.context["form"].errors.items()} == {
        "year": ["该街道这一年度已有目标，请修改原有目标。"]
    }
    response = client.post(url, {"street": district.street_b.pk, "year": YEAR, "party_quota": 1, "mass_quota": -1})
    assert set(response.context["form"].errors) == {"street", "mass_quota"}
    assert BackboneTarget.objects.count() == 1


def test_community_staff_cannot_set_targets(district, staff_a, client_for, api_client_for):
    response = client_for(staff_a).post(
        reverse("partybuilding:backbone_target_add"),
        {"street": district.street_a.pk, "year": YEAR, "party_quota": 1, "mass_quota": 1},
    )
    assert "street" in response.context["form"].errors
    response = api_client_for(staff_a).post(
        "/api/v1/backbone-targets/", {"street": district.street_a.pk, "year": YEAR, "party_quota": 1, "mass_quota": 1}
    )
    assert response.status_code == 400
    assert not BackboneTarget.objects.exists()


# --- the academy ------------------------------------------------------------------------------------
def test_attendance_sheet_marks_the_roster(backbones, district, staff_a):
    session = backbones["session"]
    roster = set(services.session_roster(session, staff_a, "change").values_list("pk", flat=True))
    a1 = {b.pk for b in backbones["a1_party"] + backbones["a1_mass"]}
    assert roster == a1  # staff of A1 record only A1's backbones

    attended = [backbones["a1_party"][2].pk, backbones["a1_mass"][1].pk]
    result = services.attendance_record(session_id=session.pk, attended_ids=attended, by=staff_a)

    assert {b.pk for b in result.attended} == set(attended)
    assert len(result.absent) == 3
    present = set(Attendance.objects.filter(session=session, attended=True).values_list("backbone_id", flat=True))
    # A1's earlier attendees are now absent (unticked); A2's row is untouched.
    assert present == set(attended)
    assert Attendance.objects.get(session=session, backbone=backbones["a2_mass"][0]).attended is False


def test_attendance_outside_the_roster_is_404(backbones, staff_a):
    with pytest.raises(Http404):
        services.attendance_record(
            session_id=backbones["session"].pk, attended_ids=[backbones["a2_party"][0].pk], by=staff_a
        )
    with pytest.raises(ValidationError):
        services.attendance_record(session_id=backbones["session"].pk, attended_ids=["x"], by=staff_a)
    assert Attendance.objects.filter(session=backbones["session"], attended=True).count() == 3


def test_session_page_and_post(backbones, district, staff_a, client_for):
    client = client_for(staff_a)
    url = reverse("partybuilding:backbone_session", args=[backbones["session"].pk])
    response = client.get(url)
    assert response.status_code == 200
    changeable = {b.pk for b, _present, can in response.context["roster"] if can}
    assert changeable == {b.pk for b in backbones["a1_party"] + backbones["a1_mass"]}
    response = client.post(url, {"attended": [backbones["a1_party"][0].pk]})
    assert response.status_code == 302
    assert Attendance.objects.filter(session=backbones["session"], attended=True).count() == 1


def test_community_staff_open_a_session_in_their_community(district, staff_a, client_for):
    course = CourseFactory()
    client = client_for(staff_a)
    start = (timezone.localtime() + datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    data = {"course": course.pk, "street": district.street_a.pk, "starts_at": start, "place": "曙光社区治理学院"}
    response = client.post(reverse("partybuilding:backbone_session_add"), data)
    assert response.status_code == 200
    assert {k: [str(e) for e in v] for k, v in response.context["form"].errors.items()} == {
        "community": ["您只能在自己的社区开班，请选择社区。"]
    }
    response = client.post(
        reverse("partybuilding:backbone_session_add"), {**data, "community": district.a1.community.pk}
    )
    assert response.status_code == 302


def test_progress_api(backbones, district_official, staff_a, api_client_for):
    response = api_client_for(district_official).get("/api/v1/backbone-progress/", {"year": YEAR})
    assert response.status_code == 200
    row = next(r for r in response.json() if r["street_name"] == "芜湖路街道")
    assert (row["party"], row["mass"], row["party_trained"], row["party_quota"], row["party_percent"]) == (
        4,
        6,
        2,
        10,
        40.0,
    )
    assert api_client_for(district_official).get("/api/v1/backbone-progress/", {"year": "x"}).status_code == 400

    session = backbones["session"]
    response = api_client_for(staff_a).post(
        f"/api/v1/training-sessions/{session.pk}/attendance/", {"attended": [backbones["a1_mass"][1].pk]}, format="json"
    )
    assert response.status_code == 200
    assert {r["backbone"] for r in response.json() if r["attended"]} == {backbones["a1_mass"][1].pk}
    response = api_client_for(staff_a).post(
        f"/api/v1/training-sessions/{session.pk}/attendance/", {"attended": ["x"]}, format="json"
    )
    assert response.status_code == 400
