"""Visit plans kept in step: a household's flags and its central household decide its plans at
once (``communities.services.household_save`` / ``households_changed`` → ``visits.services.
visit_plans_sync``), on the page and the API alike, and the nightly task reconciles every plan."""

import pytest
from django.conf import settings
from django.urls import reverse

from visits.models import VisitPlan
from visits.tasks import reconcile_visit_plans

pytestmark = pytest.mark.django_db
Rule = VisitPlan.Rule


def plans_of(household):
    return {
        (plan.rule, plan.active, plan.visitor_user.username if plan.visitor_user else None)
        for plan in VisitPlan.objects.filter(household=household).select_related("visitor_user")
    }


def household_form(household, **changes):
    data = {
        "building": household.building_id,
        "unit": household.unit,
        "room": household.room,
        "note": household.note,
    }
    for name in household.FLAG_FIELDS:
        if getattr(household, name):
            data[name] = "on"
    for name, value in changes.items():
        if value is True:
            data[name] = "on"
        else:
            data.pop(name, None)
    return data


def test_setting_lives_alone_creates_the_weekly_plan_at_once(visiting, district, client_for, staff_a):
    household = district.a1.households[1]  # in building 1: the group leader visits it
    assert plans_of(household) == set()
    response = client_for(staff_a).post(
        reverse("communities:household_edit", args=[household.pk]),
        household_form(household, lives_alone_elderly=True),
    )
    assert response.status_code == 302
    assert plans_of(household) == {(Rule.ALONE_ELDERLY_WEEKLY, True, "leader_a1")}
    plan = VisitPlan.objects.get(household=household)
    assert plan.interval_days == 7
    # Clearing the flag ends it (kept, inactive); nothing else in the district moved.
    others = set(VisitPlan.objects.exclude(household=household).values_list("pk", "active", "updated_at"))
    client_for(staff_a).post(
        reverse("communities:household_edit", args=[household.pk]),
        household_form(household, lives_alone_elderly=True) | {"lives_alone_elderly": ""},
    )
    household.refresh_from_db()
    assert household.lives_alone_elderly is False
    assert plans_of(household) == {(Rule.ALONE_ELDERLY_WEEKLY, False, "leader_a1")}
    assert set(VisitPlan.objects.exclude(household=household).values_list("pk", "active", "updated_at")) == others


def test_the_api_keeps_plans_in_step_too(visiting, district, api_client_for, staff_a):
    household = district.a1.households[5]  # building 2: no group, no central household
    response = api_client_for(staff_a).patch(
        f"/api/v1/households/{household.pk}/", {"lives_alone_elderly": True}, format="json"
    )
    assert response.status_code == 200, response.content
    assert plans_of(household) == {(Rule.ALONE_ELDERLY_WEEKLY, True, None)}


def test_a_denied_edit_changes_no_plan(visiting, district, client_for, staff_other_street):
    household = district.a1.households[1]
    response = client_for(staff_other_street).post(
        reverse("communities:household_edit", args=[household.pk]),
        household_form(household, lives_alone_elderly=True),
    )
    assert response.status_code == 404
    household.refresh_from_db()
    assert household.lives_alone_elderly is False
    assert plans_of(household) == set()


def test_central_household_assignment_moves_the_plans_at_once(visiting, district, client_for, staff_a):
    central = visiting.central_household
    newly_served = district.a1.households[3]
    response = client_for(staff_a).post(
        reverse("partybuilding:central_household_edit", args=[central.pk]),
        {"member": central.member_id, "served_households": [visiting.alone.pk, newly_served.pk]},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    # The household no longer served loses its monthly plan; the new one gets one; the
    # 独居老人 keeps its weekly visit by the central household.
    assert plans_of(visiting.served) == {(Rule.CENTRAL_HOUSEHOLD_MONTHLY, False, "central_a1")}
    assert plans_of(newly_served) == {(Rule.CENTRAL_HOUSEHOLD_MONTHLY, True, "central_a1")}
    assert plans_of(visiting.alone) == {(Rule.ALONE_ELDERLY_WEEKLY, True, "central_a1")}
    # Served by nobody now: the 独居老人 falls back to the building's group leader at once.
    client_for(staff_a).post(
        reverse("partybuilding:central_household_edit", args=[central.pk]),
        {"member": central.member_id, "served_households": [newly_served.pk]},
    )
    assert plans_of(visiting.alone) == {(Rule.ALONE_ELDERLY_WEEKLY, True, "leader_a1")}


def test_the_nightly_task_reconciles_what_bypassed_the_services(visiting, district):
    household = district.a1.households[1]
    household.lives_alone_elderly = True
    household.save(update_fields=["lives_alone_elderly"])  # as the admin or a bulk load would
    assert plans_of(household) == set()
    assert reconcile_visit_plans.apply().get() == {"created": 1, "updated": 0, "retired": 0}
    assert plans_of(household) == {(Rule.ALONE_ELDERLY_WEEKLY, True, "leader_a1")}
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "visits.tasks.reconcile_visit_plans"]
    assert len(entries) == 1
