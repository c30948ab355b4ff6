"""Plans from the rules, recording a visit, the need that becomes a request, and scope."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import timezone

from communities.models import Household
from service_requests.models import RequestEvent, ServiceRequest
from tests.factories import UserFactory
from visits import services
from visits.models import Purpose, Visit, VisitPlan, VisitRound

from .conftest import png

pytestmark = pytest.mark.django_db
Rule = VisitPlan.Rule


def plan_rows():
    return sorted(
        VisitPlan.objects.values_list("household_id", "rule", "interval_days", "visitor_user__username", "active")
    )


# --- plans from the rules ---------------------------------------------------------------------
def test_generate_makes_one_plan_per_rule_with_the_right_visitor(visiting):
    today = timezone.localdate()
    assert plan_rows() == sorted(
        [
            (visiting.alone.pk, Rule.ALONE_ELDERLY_WEEKLY, 7, "central_a1", True),
            (visiting.served.pk, Rule.CENTRAL_HOUSEHOLD_MONTHLY, 30, "central_a1", True),
            (visiting.alone_a2.pk, Rule.ALONE_ELDERLY_WEEKLY, 7, "central_a2", True),
        ]
    )
    assert visiting.weekly.next_due_on == today + timedelta(days=7)
    assert visiting.weekly.visitor_label == f"{visiting.central_member.resident.name}（党员中心户）"
    assert (visiting.weekly.street_id, visiting.weekly.community_id, visiting.weekly.compound_id) == (
        visiting.alone.street_id,
        visiting.alone.community_id,
        visiting.alone.compound_id,
    )


def test_generate_is_idempotent(visiting):
    before = plan_rows()
    assert services.visit_plans_generate() == {"created": 0, "updated": 0, "retired": 0}
    assert plan_rows() == before


def test_generate_follows_changes_in_who_serves_whom(visiting, district):
    # Without a central household, the 独居老人 is visited by the building's group leader;
    # the household that was only served monthly loses its plan (kept, inactive).
    visiting.central_household.served_households.clear()
    assert services.visit_plans_generate(community=district.a1.community) == {
        "created": 0,
        "updated": 1,
        "retired": 1,
    }
    weekly = VisitPlan.objects.get(pk=visiting.weekly.pk)
    assert (weekly.visitor_user.username, weekly.visitor_label) == (
        "leader_a1",
        f"{district.a1.residents[4].name}（楼栋党小组长）",
    )
    assert VisitPlan.objects.get(pk=visiting.monthly.pk).active is False
    # A2 was not touched.
    assert VisitPlan.objects.get(pk=visiting.weekly_a2.pk).visitor_user.username == "central_a2"


def test_generate_adds_staff_round_plans_for_flagged_households(visiting, district, staff_a):
    district.a1.households[4].disabled = True
    district.a1.households[4].save(update_fields=["disabled"])
    _round, result = services.visit_round_save(
        instance=VisitRound(community=district.a1.community, staff=staff_a, interval_days=14), by=staff_a
    )
    assert result == {"created": 2, "updated": 0, "retired": 0}
    rounds = VisitPlan.objects.filter(rule=Rule.STAFF_ROUND).order_by("household_id")
    assert [(p.household_id, p.interval_days, p.visitor_user_id) for p in rounds] == [
        (visiting.alone.pk, 14, staff_a.pk),
        (district.a1.households[4].pk, 14, staff_a.pk),
    ]


def test_round_staff_must_work_in_the_community(visiting, district, staff_a, staff_b):
    with pytest.raises(ValidationError) as error:
        services.visit_round_save(
            instance=VisitRound(community=district.a1.community, staff=staff_b, interval_days=30), by=staff_a
        )
    assert error.value.message_dict == {"staff": ["走访工作人员必须是本社区（或所在街道）的工作人员。"]}
    assert VisitRound.objects.count() == 0


def test_round_outside_scope_is_not_found_and_not_written(visiting, district, staff_a, staff_b):
    with pytest.raises(Http404):
        services.visit_round_save(
            instance=VisitRound(community=district.a1.community, staff=staff_a, interval_days=30), by=staff_b
        )
    assert VisitRound.objects.count() == 0
    assert not VisitPlan.objects.filter(rule=Rule.STAFF_ROUND).exists()


# --- recording a visit ------------------------------------------------------------------------
def test_recording_a_visit_moves_the_next_due_date_by_seven_days_and_clears_claims(visiting):
    today = timezone.localdate()
    VisitPlan.objects.filter(pk=visiting.weekly.pk).update(
        next_due_on=today - timedelta(days=2),
        reminded_for=today - timedelta(days=2),
        overdue_for=today - timedelta(days=2),
    )
    visit = services.visit_record(
        by=visiting.central, household=visiting.alone, purpose=Purpose.HEALTH, notes="  血压正常  ", photo=png()
    )
    plan = VisitPlan.objects.get(pk=visiting.weekly.pk)
    assert plan.next_due_on == today + timedelta(days=7)
    assert plan.last_visited_on == today
    assert (plan.reminded_for, plan.overdue_for, plan.escalated_for) == (None, None, None)
    assert (visit.plan, visit.visitor, visit.household, visit.purpose, visit.notes) == (
        plan,
        visiting.central,
        visiting.alone,
        Purpose.HEALTH,
        "血压正常",
    )
    assert (visit.due_on, visit.on_time) == (today - timedelta(days=2), False)
    assert (visit.street_id, visit.community_id, visit.compound_id) == (
        visiting.alone.street_id,
        visiting.alone.community_id,
        visiting.alone.compound_id,
    )
    assert visit.photo.name.startswith("visits/") and visit.photo.name.endswith(".png")
    assert visit.request is None


def test_a_visit_on_time_is_marked_on_time(visiting):
    visit = services.visit_record(by=visiting.central, household=visiting.served, purpose=Purpose.PARTY_VOICE)
    assert (visit.plan_id, visit.on_time) == (visiting.monthly.pk, True)
    assert VisitPlan.objects.get(pk=visiting.monthly.pk).next_due_on == timezone.localdate() + timedelta(days=30)


def test_a_late_entry_of_an_older_visit_does_not_move_the_plan_back(visiting):
    services.visit_record(by=visiting.central, household=visiting.alone, purpose=Purpose.HEALTH)
    services.visit_record(
        by=visiting.central,
        household=visiting.alone,
        purpose=Purpose.SAFETY,
        visited_at=timezone.now() - timedelta(days=3),
    )
    assert VisitPlan.objects.get(pk=visiting.weekly.pk).next_due_on == timezone.localdate() + timedelta(days=7)
    assert Visit.objects.count() == 2


def test_a_party_visit_does_not_count_for_the_staff_round(visiting, district, staff_a):
    services.visit_round_save(
        instance=VisitRound(community=district.a1.community, staff=staff_a, interval_days=30), by=staff_a
    )
    staff_plan = VisitPlan.objects.get(rule=Rule.STAFF_ROUND, household=visiting.alone)
    due = staff_plan.next_due_on
    services.visit_record(by=visiting.central, household=visiting.alone, purpose=Purpose.HEALTH)
    assert VisitPlan.objects.get(pk=staff_plan.pk).next_due_on == due
    # A staff visit counts for every plan of the household.
    visit = services.visit_record(by=staff_a, household=visiting.alone, purpose=Purpose.POLICY)
    assert visit.plan_id == staff_plan.pk
    assert VisitPlan.objects.get(pk=staff_plan.pk).next_due_on == timezone.localdate() + timedelta(days=30)


# --- a need found on the visit ----------------------------------------------------------------
def test_a_need_found_by_a_party_member_opens_a_visit_request_linked_to_the_visit(visiting, need_category, staff_a):
    visit = services.visit_record(
        by=visiting.central,
        household=visiting.alone,
        purpose=Purpose.SAFETY,
        notes="燃气灶打不着火",
        need={"category": need_category, "description": "老人家燃气灶打不着火，需要上门检修"},
    )
    request = ServiceRequest.objects.get()
    assert visit.request == request
    assert request.visits.get() == visit
    assert (request.channel, request.category, request.status) == (
        ServiceRequest.Channel.VISIT,
        need_category,
        ServiceRequest.Status.SUBMITTED,
    )
    assert (request.compound, request.building, request.household) == (
        visiting.alone.compound,
        visiting.alone.building,
        visiting.alone,
    )
    # A party volunteer is not the household's resident: filed by the visit itself.
    assert (request.submitted_by, request.entered_by) == (None, None)
    assert request.description == "老人家燃气灶打不着火，需要上门检修"
    head = visiting.alone.residents.order_by("pk").first()
    assert (request.contact_name, request.contact_mobile) == (head.name, head.mobile)
    assert list(request.events.values_list("kind", "actor")) == [(RequestEvent.Kind.SUBMITTED, None)]
    # Community staff are told, as for every new request.
    assert staff_a.notifications.filter(kind="request.submitted").count() == 1


def test_a_need_found_by_staff_is_entered_on_the_residents_behalf(visiting, need_category, staff_a, resident):
    # ``resident`` (residents[0]) lives in the 独居老人 household and has an account.
    visit = services.visit_record(
        by=staff_a,
        household=visiting.alone,
        purpose=Purpose.HARDSHIP,
        need={"category": need_category, "description": "需要助餐服务"},
    )
    request = visit.request
    assert (request.channel, request.entered_by, request.submitted_by) == (
        ServiceRequest.Channel.VISIT,
        staff_a,
        resident,
    )


def test_a_bad_need_writes_nothing(visiting, need_category):
    with pytest.raises(ValidationError) as error:
        services.visit_record(
            by=visiting.central,
            household=visiting.alone,
            purpose=Purpose.SAFETY,
            need={"category": need_category, "description": "   "},
        )
    assert error.value.message_dict == {"need_description": ["请描述发现的需求。"]}
    parent = need_category.parent
    with pytest.raises(ValidationError) as error:
        services.visit_record(
            by=visiting.central,
            household=visiting.alone,
            purpose=Purpose.SAFETY,
            need={"category": parent, "description": "上级分类不能直接提交"},
        )
    assert error.value.message_dict == {"need_category": ["请选择一个具体的（二级）分类。"]}
    assert (Visit.objects.count(), ServiceRequest.objects.count()) == (0, 0)
    assert VisitPlan.objects.get(pk=visiting.weekly.pk).next_due_on == visiting.weekly.next_due_on


@pytest.mark.parametrize(
    ("options", "errors"),
    [
        ({"purpose": "party"}, {"purpose": ["请选择走访事由。"]}),
        ({"visited_at_days": -1}, {"visited_at": ["走访时间不能晚于现在。"]}),
        ({"visited_at_days": 61}, {"visited_at": ["只能补录 60 天以内的走访。"]}),
        ({"notes": "长" * 2001}, {"notes": ["走访情况不能超过 2000 个字。"]}),
        (
            {"photo": SimpleUploadedFile("x.png", b"<html>not an image</html>")},
            {"photo": ["x.png 不是可识别的照片，只接受 JPEG、PNG 或 WebP 图片。"]},
        ),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(visiting, options, errors):
    options = dict(options)
    days = options.pop("visited_at_days", None)
    if days is not None:
        options["visited_at"] = timezone.now() - timedelta(days=days)
    options.setdefault("purpose", Purpose.HEALTH)
    with pytest.raises(ValidationError) as error:
        services.visit_record(by=visiting.central, household=visiting.alone, **options)
    assert error.value.message_dict == errors
    assert Visit.objects.count() == 0
    assert VisitPlan.objects.get(pk=visiting.weekly.pk).next_due_on == visiting.weekly.next_due_on


# --- who may record a visit -------------------------------------------------------------------
def test_visitable_households(visiting, district, staff_a, staff_b, resident):
    from visits.selectors import visitable_households

    a1 = district.a1
    # The central household: the two households it serves. The leader: building 1 (households 0-2).
    assert set(visitable_households(visiting.central)) == {visiting.alone, visiting.served}
    assert set(visitable_households(visiting.leader)) == set(a1.households[:3])
    assert set(visitable_households(visiting.secretary)) == set()
    assert set(visitable_households(resident)) == set()
    assert set(visitable_households(staff_a)) == set(Household.objects.filter(community=a1.community))
    assert set(visitable_households(staff_b)) == set(Household.objects.filter(community=district.a2.community))


@pytest.mark.parametrize("who", ["staff_b", "staff_other_street", "resident", "secretary", "central_a2"])
def test_out_of_scope_visit_is_not_found_and_writes_nothing(
    visiting, need_category, who, staff_b, staff_other_street, resident
):
    user = {
        "staff_b": staff_b,
        "staff_other_street": staff_other_street,
        "resident": resident,
        "secretary": visiting.secretary,
        "central_a2": visiting.central_a2,
    }[who]
    with pytest.raises(Http404):
        services.visit_record(
            by=user,
            household=visiting.alone,
            purpose=Purpose.HEALTH,
            need={"category": need_category, "description": "不应写入"},
        )
    assert (Visit.objects.count(), ServiceRequest.objects.count()) == (0, 0)


def test_a_plan_of_another_household_is_refused(visiting):
    with pytest.raises(ValidationError) as error:
        services.visit_record(
            by=visiting.central, household=visiting.alone, purpose=Purpose.HEALTH, plan=visiting.monthly
        )
    assert list(error.value.message_dict) == ["plan"]
    assert Visit.objects.count() == 0


def test_an_inactive_user_cannot_record(visiting):
    visiting.central.is_active = False
    visiting.central.save(update_fields=["is_active"])
    stranger = UserFactory()
    for user in (visiting.central, stranger):
        with pytest.raises(Http404):
            services.visit_record(by=user, household=visiting.alone, purpose=Purpose.HEALTH)
