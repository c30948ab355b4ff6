"""The volunteer services: sign-up and the waitlist, cancellation and promotion (with the
notification), check-in, bulk approval into points, teams."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from baohe.exceptions import Conflict
from notifications.models import Notification
from volunteers import selectors, services
from volunteers.models import PointsEntry, ServiceHours, Signup, TeamMembership, Volunteer

from .factories import ActivityFactory, ServiceHoursFactory, SignupFactory, VolunteerFactory

pytestmark = pytest.mark.django_db

Status = Signup.Status


def statuses(activity):
    return list(
        Signup.objects.filter(activity=activity).order_by("queued_at", "id").values_list("volunteer_id", "status")
    )


# --- sign up and the waitlist ---------------------------------------------------------------------
def test_resident_signs_up_and_becomes_a_volunteer(vol, resident_b):
    assert not Volunteer.objects.filter(resident__user=resident_b).exclude(pk=vol.v3.pk).exists()

    signup = services.signup_create(activity_id=vol.activity_a1.pk, by=resident_b)

    assert signup.status == Status.CONFIRMED
    assert signup.volunteer == vol.v3
    assert signup.confirmed_at is not None
    assert (signup.street_id, signup.community_id) == (vol.activity_a1.street_id, vol.activity_a1.community_id)


def test_a_resident_without_a_volunteer_record_is_registered_on_first_signup(district, vol):
    from .conftest import user_for

    user = user_for(district.a1.residents[8], "newcomer")
    assert not Volunteer.objects.filter(resident=district.a1.residents[8]).exists()

    signup = services.signup_create(activity_id=vol.activity_a1.pk, by=user)

    volunteer = Volunteer.objects.get(resident=district.a1.residents[8])
    assert signup.volunteer == volunteer
    assert volunteer.joined_on == timezone.localdate()


def test_a_full_activity_puts_the_next_on_the_waitlist_in_order(vol, resident, resident_b, member_b, staff_a):
    activity = vol.activity_a1  # capacity 2
    first = services.signup_create(activity_id=activity.pk, by=resident)
    second = services.signup_create(activity_id=activity.pk, by=member_b)
    third = services.signup_create(activity_id=activity.pk, by=resident_b)
    fourth = services.signup_create(activity_id=activity.pk, by=staff_a, volunteer=vol.v4)

    assert [first.status, second.status, third.status, fourth.status] == [
        Status.CONFIRMED,
        Status.CONFIRMED,
        Status.WAITLISTED,
        Status.WAITLISTED,
    ]
    assert third.confirmed_at is None
    assert selectors.waitlist_position(third) == 1
    assert selectors.waitlist_position(fourth) == 2


@pytest.fixture
def full(vol, resident, member_b, resident_b, staff_a):
    """activity_a1 full (v1, v2 confirmed) with v3 then v4 waiting."""
    activity = vol.activity_a1
    services.signup_create(activity_id=activity.pk, by=resident)
    services.signup_create(activity_id=activity.pk, by=member_b)
    services.signup_create(activity_id=activity.pk, by=resident_b)
    services.signup_create(activity_id=activity.pk, by=staff_a, volunteer=vol.v4)
    return activity


def test_a_cancellation_promotes_the_earliest_waitlisted_and_tells_them(vol, full, member_b, resident_b):
    signup = Signup.objects.get(activity=full, volunteer=vol.v2)

    cancelled, promoted = services.signup_cancel_own(activity_id=full.pk, by=member_b)

    assert cancelled.pk == signup.pk and cancelled.status == Status.CANCELLED
    assert cancelled.cancelled_at is not None
    assert [s.volunteer_id for s in promoted] == [vol.v3.pk]
    assert statuses(full) == [
        (vol.v1.pk, Status.CONFIRMED),
        (vol.v2.pk, Status.CANCELLED),
        (vol.v3.pk, Status.CONFIRMED),
        (vol.v4.pk, Status.WAITLISTED),
    ]
    promoted_signup = Signup.objects.get(activity=full, volunteer=vol.v3)
    assert promoted_signup.promoted_at is not None
    note = Notification.objects.get(dedupe_key=f"signup:{promoted_signup.pk}:promoted")
    assert note.recipient == resident_b
    assert note.title == f"候补成功：{full.title}"
    assert note.link == f"/volunteers/my/activity/{full.pk}/"
    assert Notification.objects.filter(kind="volunteer.signup_promoted").count() == 1


def test_cancelling_a_waitlisted_place_promotes_nobody(vol, full, resident_b):
    _cancelled, promoted = services.signup_cancel_own(activity_id=full.pk, by=resident_b)

    assert promoted == []
    assert Signup.objects.filter(activity=full, status=Status.CONFIRMED).count() == 2
    assert Notification.objects.filter(kind="volunteer.signup_promoted").count() == 0


def test_staff_cancel_promotes_too(vol, full, staff_a):
    signup = Signup.objects.get(activity=full, volunteer=vol.v1)

    _cancelled, promoted = services.signup_cancel(signup_id=signup.pk, by=staff_a)

    assert [s.volunteer_id for s in promoted] == [vol.v3.pk]


def test_signing_up_again_after_cancelling_goes_to_the_back(vol, full, member_b):
    services.signup_cancel_own(activity_id=full.pk, by=member_b)  # v3 promoted

    again = services.signup_create(activity_id=full.pk, by=member_b)

    assert again.status == Status.WAITLISTED
    assert selectors.waitlist_position(again) == 2  # behind v4
    assert Signup.objects.filter(activity=full, volunteer=vol.v2).count() == 2


def test_signing_up_twice_is_a_conflict(vol, resident):
    services.signup_create(activity_id=vol.activity_a1.pk, by=resident)

    with pytest.raises(Conflict) as error:
        services.signup_create(activity_id=vol.activity_a1.pk, by=resident)

    assert error.value.code == "already_signed_up"
    assert Signup.objects.filter(activity=vol.activity_a1).count() == 1


def test_signing_up_after_the_deadline_is_a_conflict(vol, resident):
    activity = ActivityFactory(
        project=vol.project_a1,
        starts_at=timezone.now() + datetime.timedelta(hours=5),
        ends_at=timezone.now() + datetime.timedelta(hours=7),
        signup_deadline=timezone.now() - datetime.timedelta(minutes=1),
    )

    with pytest.raises(Conflict) as error:
        services.signup_create(activity_id=activity.pk, by=resident)

    assert error.value.code == "deadline_passed"
    assert str(error.value.message) == f"「{activity.title}」报名已截止。"


def test_cancelling_after_the_start_is_a_conflict(vol, resident):
    activity = ActivityFactory(
        project=vol.project_a1,
        starts_at=timezone.now() - datetime.timedelta(minutes=5),
        ends_at=timezone.now() + datetime.timedelta(hours=2),
        signup_deadline=timezone.now() - datetime.timedelta(hours=1),
    )
    SignupFactory(activity=activity, volunteer=vol.v1)

    with pytest.raises(Conflict) as error:
        services.signup_cancel_own(activity_id=activity.pk, by=resident)

    assert error.value.code == "activity_started"


def test_cancelling_without_a_signup_is_a_conflict(vol, resident):
    with pytest.raises(Conflict) as error:
        services.signup_cancel_own(activity_id=vol.activity_a1.pk, by=resident)
    assert error.value.code == "not_signed_up"


def test_a_resident_without_a_household_cannot_sign_up(vol, district):
    from tests.factories import RoleFactory, UserFactory

    stranger = UserFactory(username="stranger", mobile="13900000001")
    RoleFactory(user=stranger, resident=True, community=district.a1.community)

    with pytest.raises(Http404):  # sees no activity at all
        services.signup_create(activity_id=vol.activity_a1.pk, by=stranger)


def test_residents_cannot_sign_up_someone_else(vol, resident):
    with pytest.raises(PermissionDenied):
        services.signup_create(activity_id=vol.activity_a1.pk, by=resident, volunteer=vol.v2)


def test_staff_of_another_community_cannot_sign_up_for_a1(vol, staff_b):
    with pytest.raises(Http404):
        services.signup_create(activity_id=vol.activity_a1.pk, by=staff_b, volunteer=vol.vb1)
    with pytest.raises(Http404):
        services.signup_create(activity_id=vol.private_a1.pk, by=staff_b, volunteer=vol.vb1)
    assert not Signup.objects.exists()


def test_staff_cannot_sign_up_a_volunteer_of_another_community(vol, staff_a):
    with pytest.raises(ValidationError) as error:
        services.signup_create(activity_id=vol.activity_a1.pk, by=staff_a, volunteer=vol.vb1)
    assert error.value.message_dict == {"volunteer": ["请选择您所在社区的志愿者。"]}


# --- capacity changes -----------------------------------------------------------------------------
def test_more_places_promote_from_the_waitlist(vol, full, staff_a):
    full.capacity = 3

    services.activity_save(instance=full, by=staff_a)

    assert statuses(full)[2] == (vol.v3.pk, Status.CONFIRMED)
    assert statuses(full)[3] == (vol.v4.pk, Status.WAITLISTED)
    assert Notification.objects.filter(kind="volunteer.signup_promoted").count() == 1


def test_fewer_places_than_confirmed_is_refused(vol, full, staff_a):
    full.capacity = 1

    with pytest.raises(ValidationError) as error:
        services.activity_save(instance=full, by=staff_a)

    assert error.value.message_dict == {"capacity": ["已有 2 人报名，名额不能少于 2。"]}
    full.refresh_from_db()
    assert full.capacity == 2


def test_activity_rules_name_their_fields(vol, staff_a):
    activity = ActivityFactory.build(
        project=vol.project_a1,
        team=vol.team_a2,
        starts_at=timezone.now() + datetime.timedelta(days=2),
        ends_at=timezone.now() + datetime.timedelta(days=1),
        signup_deadline=timezone.now() + datetime.timedelta(days=3),
        capacity=0,
        visibility="team",
    )

    with pytest.raises(ValidationError) as error:
        services.activity_save(instance=activity, by=staff_a)

    assert error.value.message_dict == {
        "team": ["组织队伍必须是本项目所在社区的志愿服务队。"],
        "capacity": ["确保该值大于或等于1。"],
        "ends_at": ["结束时间必须晚于开始时间。"],
        "signup_deadline": ["报名截止时间不能晚于开始时间。"],
    }


# --- check-in ---------------------------------------------------------------------------------------
@pytest.fixture
def today_activity(vol):
    """An activity that started an hour ago, 2.5 hours long, with v1, v2 confirmed and v3 waiting."""
    starts = timezone.now() - datetime.timedelta(hours=1)
    activity = ActivityFactory(
        project=vol.project_a1,
        team=vol.team_a1,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2, minutes=30),
        signup_deadline=starts - datetime.timedelta(hours=2),
        capacity=2,
    )
    SignupFactory(activity=activity, volunteer=vol.v1)
    SignupFactory(activity=activity, volunteer=vol.v2)
    SignupFactory(activity=activity, volunteer=vol.v3, status=Status.WAITLISTED)
    return activity


def test_check_in_records_pending_hours(vol, today_activity, staff_a):
    ids = list(Signup.objects.filter(activity=today_activity, status=Status.CONFIRMED).values_list("pk", flat=True))

    result = services.signup_check_in(activity_id=today_activity.pk, signup_ids=ids, by=staff_a)

    assert len(result.checked_in) == 2 and result.already == []
    hours = ServiceHours.objects.filter(activity=today_activity).order_by("volunteer_id")
    assert [(h.volunteer_id, h.hours, h.status, h.team_id) for h in hours] == [
        (vol.v1.pk, Decimal("2.50"), ServiceHours.Status.PENDING, vol.team_a1.pk),
        (vol.v2.pk, Decimal("2.50"), ServiceHours.Status.PENDING, vol.team_a1.pk),
    ]
    assert all(s.checked_in_by == staff_a for s in Signup.objects.filter(pk__in=ids))

    again = services.signup_check_in(activity_id=today_activity.pk, signup_ids=ids[:1], by=staff_a)
    assert again.checked_in == [] and len(again.already) == 1
    assert ServiceHours.objects.filter(activity=today_activity).count() == 2


def test_a_waitlisted_volunteer_cannot_be_checked_in(vol, today_activity, staff_a):
    waiting = Signup.objects.get(activity=today_activity, status=Status.WAITLISTED)
    confirmed = Signup.objects.filter(activity=today_activity, status=Status.CONFIRMED).first()

    with pytest.raises(Conflict) as error:
        services.signup_check_in(activity_id=today_activity.pk, signup_ids=[confirmed.pk, waiting.pk], by=staff_a)

    assert error.value.code == "not_confirmed"
    assert not Signup.objects.filter(activity=today_activity, checked_in_at__isnull=False).exists()


def test_check_in_before_the_day_is_a_conflict(vol, staff_a):
    signup = SignupFactory(activity=vol.activity_a1, volunteer=vol.v1)
    with pytest.raises(Conflict) as error:
        services.signup_check_in(activity_id=vol.activity_a1.pk, signup_ids=[signup.pk], by=staff_a)
    assert error.value.code == "too_early"


def test_check_in_is_staff_work(vol, today_activity, resident, staff_b):
    signup = Signup.objects.get(activity=today_activity, volunteer=vol.v1)
    with pytest.raises(PermissionDenied):
        services.signup_check_in(activity_id=today_activity.pk, signup_ids=[signup.pk], by=resident)
    with pytest.raises(Http404):
        services.signup_check_in(activity_id=today_activity.pk, signup_ids=[signup.pk], by=staff_b)


def test_check_in_of_a_signup_of_another_activity_is_404(vol, today_activity, staff_a):
    other = SignupFactory(activity=vol.activity_a1, volunteer=vol.v4)
    with pytest.raises(Http404):
        services.signup_check_in(activity_id=today_activity.pk, signup_ids=[other.pk], by=staff_a)


# --- approval and points ------------------------------------------------------------------------------
HOURS = ("0.01", "1.25", "2.50", "3.33", "0.75", "7.99", "1.10", "0.05")


@pytest.fixture
def pending(vol):
    volunteers = [vol.v1, vol.v2, vol.v3, vol.v4]
    return [
        ServiceHoursFactory(volunteer=volunteers[i % 4], project=vol.project_a1, hours=hours)
        for i, hours in enumerate(HOURS)
    ]


def test_bulk_approval_earns_points_per_hour_exactly(vol, pending, staff_a, settings):
    settings.VOLUNTEER_POINTS_PER_HOUR = 10

    result = services.hours_approve(hours_ids=[row.pk for row in pending], by=staff_a)

    assert len(result.done) == len(HOURS) and result.skipped == []
    assert PointsEntry.objects.count() == len(HOURS)
    for volunteer in (vol.v1, vol.v2, vol.v3, vol.v4):
        hours = sum(
            Decimal(h) for i, h in enumerate(HOURS) if i % 4 == [vol.v1, vol.v2, vol.v3, vol.v4].index(volunteer)
        )
        assert selectors.points_balance(volunteer) == hours * 10
        assert selectors.volunteer_totals(volunteer)["approved_hours"] == hours
    total_points = sum(selectors.points_balance(v) for v in (vol.v1, vol.v2, vol.v3, vol.v4))
    assert total_points == sum(Decimal(h) for h in HOURS) * 10 == Decimal("169.80")
    row = ServiceHours.objects.get(pk=pending[0].pk)
    assert (row.status, row.reviewed_by) == (ServiceHours.Status.APPROVED, staff_a)


def test_points_follow_the_rate_setting(vol, pending, staff_a, settings):
    settings.VOLUNTEER_POINTS_PER_HOUR = 3
    services.hours_approve(hours_ids=[pending[1].pk], by=staff_a)  # 1.25 h
    assert PointsEntry.objects.get().points == Decimal("3.75")


def test_approving_twice_earns_points_once(vol, pending, staff_a):
    services.hours_approve(hours_ids=[pending[0].pk, pending[1].pk], by=staff_a)

    result = services.hours_approve(hours_ids=[pending[1].pk, pending[2].pk], by=staff_a)

    assert [r.pk for r in result.done] == [pending[2].pk]
    assert [r.pk for r in result.skipped] == [pending[1].pk]
    assert PointsEntry.objects.count() == 3


def test_approval_is_all_or_nothing_outside_scope(vol, pending, staff_a):
    other = ServiceHoursFactory(volunteer=vol.vb1, project=vol.project_a2)

    with pytest.raises(Http404):
        services.hours_approve(hours_ids=[pending[0].pk, other.pk], by=staff_a)
    with pytest.raises(Http404):
        services.hours_approve(hours_ids=[pending[0].pk, 999999], by=staff_a)

    assert not ServiceHours.objects.filter(status=ServiceHours.Status.APPROVED).exists()
    assert not PointsEntry.objects.exists()


def test_approval_needs_staff_and_ids(vol, pending, resident, staff_a):
    with pytest.raises(PermissionDenied):
        services.hours_approve(hours_ids=[pending[0].pk], by=resident)
    with pytest.raises(ValidationError) as error:
        services.hours_approve(hours_ids=[], by=staff_a)
    assert error.value.message_dict == {"ids": ["请至少选择一条服务时长。"]}


def test_staff_cannot_approve_their_own_hours(vol, district, staff_a):
    record = district.a1.residents[10]
    record.user = staff_a
    record.save(update_fields=["user"])
    own = ServiceHoursFactory(volunteer=VolunteerFactory(resident=record), project=vol.project_a1)

    with pytest.raises(PermissionDenied):
        services.hours_approve(hours_ids=[own.pk], by=staff_a)


def test_reject_needs_a_reason_and_earns_nothing(vol, pending, staff_a):
    with pytest.raises(ValidationError) as error:
        services.hours_reject(hours_ids=[pending[0].pk], by=staff_a, reason="  ")
    assert error.value.message_dict == {"reason": ["请填写未通过的原因。"]}

    result = services.hours_reject(hours_ids=[pending[0].pk], by=staff_a, reason="未签到")

    assert [r.pk for r in result.done] == [pending[0].pk]
    row = ServiceHours.objects.get(pk=pending[0].pk)
    assert (row.status, row.reject_reason) == (ServiceHours.Status.REJECTED, "未签到")
    assert services.hours_approve(hours_ids=[row.pk], by=staff_a).skipped == [row]
    assert not PointsEntry.objects.exists()


def test_hours_record_checks_households_and_volunteer(vol, district, staff_a):
    row = services.hours_record(
        by=staff_a,
        volunteer=vol.v2,
        project=vol.project_a1,
        served_on=timezone.localdate(),
        hours=Decimal("0.75"),
        households=[district.a1.households[0], district.a1.households[1]],
        note="午餐送餐上门",
    )
    assert row.status == ServiceHours.Status.PENDING
    assert sorted(row.households.values_list("pk", flat=True)) == sorted(
        [district.a1.households[0].pk, district.a1.households[1].pk]
    )

    with pytest.raises(ValidationError) as error:
        services.hours_record(
            by=staff_a,
            volunteer=vol.v2,
            project=vol.project_a1,
            served_on=timezone.localdate() + datetime.timedelta(days=1),
            hours=Decimal("30"),
            households=[district.a2.households[0]],
        )
    assert set(error.value.message_dict) == {"hours", "served_on"}
    with pytest.raises(ValidationError) as error:
        services.hours_record(
            by=staff_a,
            volunteer=vol.v2,
            project=vol.project_a1,
            served_on=timezone.localdate(),
            hours=Decimal("1"),
            households=[district.a2.households[0]],
        )
    assert list(error.value.message_dict) == ["households"]
    with pytest.raises(ValidationError):
        services.hours_record(
            by=staff_a, volunteer=vol.vb1, project=vol.project_a1, served_on=timezone.localdate(), hours=Decimal("1")
        )
    assert ServiceHours.objects.count() == 1


# --- teams ---------------------------------------------------------------------------------------------
def test_resident_joins_and_leaves_a_team(vol, resident_b):
    membership = services.team_join(team_id=vol.team_a1.pk, by=resident_b)
    assert membership.volunteer == vol.v3

    with pytest.raises(Conflict):
        services.team_join(team_id=vol.team_a1.pk, by=resident_b)

    services.team_remove_member(membership=membership, by=resident_b)
    assert not TeamMembership.objects.filter(team=vol.team_a1, volunteer=vol.v3).exists()


def test_resident_cannot_join_another_communitys_team(vol, resident):
    with pytest.raises(Http404):
        services.team_join(team_id=vol.team_a2.pk, by=resident)


def test_the_leader_leaving_leaves_the_post(vol, resident):
    membership = TeamMembership.objects.get(team=vol.team_a1, volunteer=vol.v1)
    services.team_remove_member(membership=membership, by=resident)
    vol.team_a1.refresh_from_db()
    assert vol.team_a1.leader_id is None


def test_staff_adds_only_their_communitys_volunteers(vol, staff_a):
    services.team_add_member(team=vol.team_a1, volunteer=vol.v3, by=staff_a)
    with pytest.raises(ValidationError):
        services.team_add_member(team=vol.team_a1, volunteer=vol.vb1, by=staff_a)
