"""The visit pages: my visits due this week, the phone form (with a found need), one visit and
its photo, coverage, the overdue list, the visit list, plan generation and the staff round.
Outsiders get 404 on every scoped row; list pages cost the same queries for 2 and 20 rows."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from service_requests.models import ServiceRequest
from tests.factories import BuildingFactory, CompoundFactory, HouseholdFactory
from visits import services
from visits.models import Purpose, Visit, VisitPlan, VisitRound

from .conftest import png

pytestmark = pytest.mark.django_db

MINE_QUERIES = 8
COVERAGE_QUERIES = 12
OVERDUE_QUERIES = 8
LIST_QUERIES = 8


def due_plans(response):
    return [int(pk) for pk in re.findall(r'data-testid="due-visit" data-plan="(\d+)"', response.content.decode())]


def set_due(plan, days):
    VisitPlan.objects.filter(pk=plan.pk).update(next_due_on=timezone.localdate() + timedelta(days=days))


# --- my visits --------------------------------------------------------------------------------
def test_mine_lists_the_visitors_plans_due_this_week_overdue_first(visiting, client_for):
    set_due(visiting.weekly, 1)
    set_due(visiting.monthly, -2)
    response = client_for(visiting.central).get(reverse("visits:mine"))
    assert response.status_code == 200
    assert due_plans(response) == [visiting.monthly.pk, visiting.weekly.pk]
    body = response.content.decode()
    assert "本周应走访 2 户，其中 1 户已逾期。" in body
    assert "已逾期 2 天" in body and "明天" in body
    assert "独居老人" in body
    assert f'href="/visits/record/{visiting.alone.pk}/?plan={visiting.weekly.pk}"' in body


def test_mine_leaves_out_plans_due_later_unless_all(visiting, client_for):
    set_due(visiting.weekly, 7)
    set_due(visiting.monthly, 6)
    client = client_for(visiting.central)
    assert due_plans(client.get(reverse("visits:mine"))) == [visiting.monthly.pk]
    assert due_plans(client.get(reverse("visits:mine") + "?all=1")) == [visiting.monthly.pk, visiting.weekly.pk]


def test_mine_is_empty_for_someone_without_plans(visiting, client_for, resident):
    response = client_for(resident).get(reverse("visits:mine"))
    assert response.status_code == 200
    assert due_plans(response) == []
    assert 'data-testid="no-due-visits"' in response.content.decode()


def test_mine_needs_login(client, visiting):
    response = client.get(reverse("visits:mine"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("rows", [2, 20])
def test_mine_query_count_is_flat(visiting, district, client_for, django_assert_max_num_queries, rows):
    building = district.a1.buildings[0]
    households = [HouseholdFactory(building=building, room=str(900 + n)) for n in range(rows - 2)]
    visiting.central_household.served_households.add(*households)
    services.visit_plans_generate()
    VisitPlan.objects.filter(visitor_user=visiting.central).update(next_due_on=timezone.localdate())
    client = client_for(visiting.central)
    with django_assert_max_num_queries(MINE_QUERIES):
        response = client.get(reverse("visits:mine"))
    assert len(due_plans(response)) == rows


# --- recording a visit ------------------------------------------------------------------------
def record_url(household, plan=None):
    url = reverse("visits:record", args=[household.pk])
    return f"{url}?plan={plan.pk}" if plan else url


def test_record_form_shows_the_household(visiting, client_for):
    response = client_for(visiting.central).get(record_url(visiting.alone, visiting.weekly))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="visit-form"' in body
    assert "独居老人每周走访" in body
    assert body.count('name="purpose"') == len(Purpose.choices)


def test_recording_a_visit_on_the_page_moves_the_plan(visiting, client_for):
    client = client_for(visiting.central)
    response = client.post(
        record_url(visiting.alone, visiting.weekly),
        {"purpose": Purpose.HEALTH, "notes": "精神很好", "plan": visiting.weekly.pk, "photo": png()},
    )
    visit = Visit.objects.get()
    assert response.status_code == 302
    assert response["Location"] == visit.get_absolute_url()
    assert (visit.plan_id, visit.visitor, visit.notes, bool(visit.photo)) == (
        visiting.weekly.pk,
        visiting.central,
        "精神很好",
        True,
    )
    assert VisitPlan.objects.get(pk=visiting.weekly.pk).next_due_on == timezone.localdate() + timedelta(days=7)
    detail = client.get(response["Location"])
    assert "已记录对" in detail.content.decode()
    assert client.get(reverse("visits:photo", args=[visit.pk]))["Content-Type"] == "image/png"


def test_a_need_found_on_the_page_opens_a_request(visiting, client_for, need_category):
    client = client_for(visiting.central)
    response = client.post(
        record_url(visiting.alone, visiting.weekly),
        {
            "purpose": Purpose.SAFETY,
            "notes": "",
            "need_found": "on",
            "need_category": need_category.pk,
            "need_description": "燃气灶打不着火",
        },
    )
    assert response.status_code == 302
    visit = Visit.objects.get()
    request = ServiceRequest.objects.get()
    assert visit.request == request
    assert (request.channel, request.household, request.description) == (
        ServiceRequest.Channel.VISIT,
        visiting.alone,
        "燃气灶打不着火",
    )
    body = client.get(response["Location"]).content.decode()
    assert f"发现的需求已提交为诉求 {request.number}" in body
    assert 'data-testid="visit-request"' in body


def test_a_need_without_description_is_shown_on_the_form_and_writes_nothing(visiting, client_for, need_category):
    response = client_for(visiting.central).post(
        record_url(visiting.alone),
        {"purpose": Purpose.SAFETY, "need_found": "on", "need_category": need_category.pk},
    )
    assert response.status_code == 400
    assert 'data-field-error="need_description"' in response.content.decode()
    assert (Visit.objects.count(), ServiceRequest.objects.count()) == (0, 0)


def test_a_bad_photo_is_shown_on_the_form_and_writes_nothing(visiting, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client_for(visiting.central).post(
        record_url(visiting.alone),
        {"purpose": Purpose.SAFETY, "photo": SimpleUploadedFile("bad.jpg", b"GIF89a not really")},
    )
    assert response.status_code == 400
    assert "bad.jpg 不是可识别的照片" in response.content.decode()
    assert Visit.objects.count() == 0


@pytest.mark.parametrize("who", ["staff_b", "resident", "secretary"])
def test_record_page_outside_scope_is_404_and_writes_nothing(visiting, client_for, who, staff_b, resident):
    user = {"staff_b": staff_b, "resident": resident, "secretary": visiting.secretary}[who]
    client = client_for(user)
    assert client.get(record_url(visiting.alone)).status_code == 404
    assert client.post(record_url(visiting.alone), {"purpose": Purpose.HEALTH}).status_code == 404
    assert Visit.objects.count() == 0


# --- one visit --------------------------------------------------------------------------------
@pytest.fixture
def recorded(visiting):
    return services.visit_record(by=visiting.central, household=visiting.alone, purpose=Purpose.HEALTH, photo=png())


def test_visit_detail_for_the_visitor_and_the_communitys_staff(recorded, visiting, client_for, staff_a):
    for user in (visiting.central, staff_a):
        response = client_for(user).get(recorded.get_absolute_url())
        assert response.status_code == 200
        assert "健康关怀到家" in response.content.decode()


@pytest.mark.parametrize("who", ["staff_b", "staff_other_street", "resident", "leader"])
def test_visit_and_photo_outside_scope_are_404(
    recorded, visiting, client_for, who, staff_b, staff_other_street, resident
):
    user = {
        "staff_b": staff_b,
        "staff_other_street": staff_other_street,
        "resident": resident,
        "leader": visiting.leader,
    }[who]
    client = client_for(user)
    assert client.get(recorded.get_absolute_url()).status_code == 404
    assert client.get(reverse("visits:photo", args=[recorded.pk])).status_code == 404


# --- coverage ---------------------------------------------------------------------------------
def coverage_row(response, compound):
    return next(row for row in response.context["rows"] if row["compound"] == compound)


def test_coverage_counts_flagged_plans_on_time_and_overdue(visiting, district, client_for, staff_a):
    services.visit_record(by=visiting.central, household=visiting.alone, purpose=Purpose.HEALTH)
    set_due(visiting.monthly, -2)  # due two days ago: the visit an hour ago is late, whatever the hour
    services.visit_record(
        by=visiting.central,
        household=visiting.served,
        purpose=Purpose.POLICY,
        visited_at=timezone.now() - timedelta(hours=1),
    )
    set_due(visiting.monthly, -3)  # visited late, and overdue again (set by hand for the test)
    response = client_for(staff_a).get(reverse("visits:coverage"))
    assert response.status_code == 200
    assert [row["compound"] for row in response.context["rows"]] == [district.a1.compound]
    row = coverage_row(response, district.a1.compound)
    assert {key: row[key] for key in ("flagged", "plans", "weekly", "visits", "on_time", "overdue", "no_visitor")} == {
        "flagged": 1,
        "plans": 2,
        "weekly": 1,
        "visits": 2,
        "on_time": 1,
        "overdue": 1,
        "no_visitor": 0,
    }
    assert row["on_time_rate"] == 50
    body = response.content.decode()
    assert f'href="/visits/coverage/overdue/?compound={district.a1.compound.pk}"' in body


def test_coverage_for_a_street_official_sees_both_communities(visiting, district, client_for, street_official_a):
    response = client_for(street_official_a).get(reverse("visits:coverage"))
    compounds = [row["compound"] for row in response.context["rows"]]
    assert compounds == [district.a1.compound, district.a2.compound]
    assert response.context["totals"]["flagged"] == 2
    assert response.context["can_generate"] is False


def test_coverage_rows_are_scoped(visiting, district, client_for, staff_b, staff_other_street):
    rows = client_for(staff_b).get(reverse("visits:coverage")).context["rows"]
    assert [row["compound"] for row in rows] == [district.a2.compound]
    assert [row["plans"] for row in rows] == [1]
    rows = client_for(staff_other_street).get(reverse("visits:coverage")).context["rows"]
    assert [(row["compound"], row["plans"], row["flagged"]) for row in rows] == [(district.b1.compound, 0, 0)]
    # Asking for another community's rows gives the user's own (the filter only narrows).
    response = client_for(staff_b).get(reverse("visits:coverage") + f"?community={district.a1.community.pk}")
    assert [row["compound"] for row in response.context["rows"]] == [district.a2.compound]


def test_coverage_is_for_staff(visiting, client_for, resident):
    assert client_for(resident).get(reverse("visits:coverage")).status_code == 403
    assert client_for(visiting.central).get(reverse("visits:coverage")).status_code == 403


@pytest.mark.parametrize("rows", [2, 20])
def test_coverage_query_count_is_flat(visiting, district, client_for, staff_a, django_assert_max_num_queries, rows):
    for _n in range(rows - 1):
        compound = CompoundFactory(community=district.a1.community)
        household = HouseholdFactory(building=BuildingFactory(compound=compound), lives_alone_elderly=True)
        visiting.central_household.served_households.add(household)
    services.visit_plans_generate()
    plans = list(VisitPlan.objects.filter(visitor_user=visiting.central).select_related("household")[:10])
    for plan in plans:
        services.visit_record(by=visiting.central, household=plan.household, purpose=Purpose.HEALTH)
    client = client_for(staff_a)
    with django_assert_max_num_queries(COVERAGE_QUERIES):
        response = client.get(reverse("visits:coverage"))
    assert len(response.context["rows"]) == rows
    assert response.context["totals"]["visits"] == len(plans) == min(rows + 1, 10)


# --- overdue and visit lists ------------------------------------------------------------------
def test_overdue_list(visiting, district, client_for, staff_a, staff_b):
    set_due(visiting.weekly, -4)
    set_due(visiting.weekly_a2, -1)
    response = client_for(staff_a).get(reverse("visits:overdue") + f"?compound={district.a1.compound.pk}")
    assert response.status_code == 200
    assert [(p.pk, p.days_late) for p in response.context["plans"]] == [(visiting.weekly.pk, 4)]
    assert [p.pk for p in client_for(staff_b).get(reverse("visits:overdue")).context["plans"]] == [
        visiting.weekly_a2.pk
    ]
    assert (
        client_for(staff_b).get(reverse("visits:overdue") + f"?compound={district.a1.compound.pk}").status_code == 404
    )


@pytest.mark.parametrize("rows", [2, 20])
def test_overdue_query_count_is_flat(visiting, district, client_for, staff_a, django_assert_max_num_queries, rows):
    building = district.a1.buildings[0]
    households = [HouseholdFactory(building=building, room=str(900 + n)) for n in range(rows - 2)]
    visiting.central_household.served_households.add(*households)
    services.visit_plans_generate()
    VisitPlan.objects.filter(community=district.a1.community).update(
        next_due_on=timezone.localdate() - timedelta(days=1)
    )
    client = client_for(staff_a)
    with django_assert_max_num_queries(OVERDUE_QUERIES):
        response = client.get(reverse("visits:overdue"))
    assert len(response.context["plans"]) == rows


@pytest.mark.parametrize("rows", [2, 20])
def test_visit_list_query_count_is_flat(visiting, district, client_for, staff_a, django_assert_max_num_queries, rows):
    for n in range(rows):
        services.visit_record(
            by=visiting.central,
            household=visiting.alone if n % 2 else visiting.served,
            purpose=Purpose.HEALTH,
            visited_at=timezone.now() - timedelta(hours=n),
        )
    services.visit_record(by=visiting.central_a2, household=visiting.alone_a2, purpose=Purpose.HEALTH)
    client = client_for(staff_a)
    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get(reverse("visits:list"))
    assert len(response.context["visits"]) == rows


# --- generating plans and the staff round ----------------------------------------------------
def test_generate_button_applies_the_rules_in_scope(visiting, district, client_for, staff_a, resident):
    visiting.central_household.served_households.add(district.a1.households[5])
    response = client_for(staff_a).post(reverse("visits:generate"))
    assert response.status_code == 302
    assert VisitPlan.objects.filter(household=district.a1.households[5]).count() == 1
    assert client_for(resident).post(reverse("visits:generate")).status_code == 403


def test_generate_for_another_community_is_404(visiting, district, client_for, staff_b):
    response = client_for(staff_b).post(reverse("visits:generate"), {"community": district.a1.community.pk})
    assert response.status_code == 404


def test_staff_round_form(visiting, district, client_for, staff_a, staff_b):
    url = reverse("visits:round", args=[district.a1.community.pk])
    client = client_for(staff_a)
    assert client.get(url).status_code == 200
    response = client.post(url, {"staff": staff_a.pk, "interval_days": 21, "active": "on"})
    assert response.status_code == 302
    assert VisitRound.objects.get().interval_days == 21
    assert list(
        VisitPlan.objects.filter(rule=VisitPlan.Rule.STAFF_ROUND).values_list("household", "interval_days")
    ) == [(visiting.alone.pk, 21)]
    # Another community's staff cannot be chosen; another community's staff cannot open the form.
    response = client.post(url, {"staff": staff_b.pk, "interval_days": 21, "active": "on"})
    assert response.status_code == 400
    assert client_for(staff_b).get(url).status_code == 404
