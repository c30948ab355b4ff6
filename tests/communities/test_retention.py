"""Residents leaving (迁出 / 去世), households archived, and the nightly anonymisation (issue 12,
part E): fixed dates through ``now=``; the dashboards' counts are the same before and after."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from accounts.models import ApiToken, Role, User
from accounts.tokens import token_issue
from baohe.exceptions import Conflict
from baohe.models import AuditEntry
from communities import services
from communities.models import Household, Resident
from communities.selectors import level_counts
from communities.tasks import anonymise_residents
from dashboard.places import Period, Place
from dashboard.selectors import Dashboard
from notifications.models import Notification
from service_requests.models import ServiceRequest
from service_requests.services import request_submit
from tests.factories import CategoryFactory, UserFactory
from visits.models import Purpose, Visit, VisitPlan

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 3, 15, 9, 0, tzinfo=SH)  # the night the task runs
LONG_AGO = datetime.date(2024, 3, 1)  # moved away more than 24 months before NOW
RECENTLY = datetime.date(2025, 6, 1)  # less than 24 months before NOW


# --- status ---------------------------------------------------------------------------------------
def test_move_away_sets_status_and_date_writes_one_audit_line_and_keeps_the_row(district, staff_a):
    resident = district.a1.residents[1]
    services.resident_move_away(resident=resident, by=staff_a, on=RECENTLY)
    resident.refresh_from_db()
    assert (resident.status, resident.left_on) == (Resident.Status.MOVED_AWAY, RECENTLY)
    entry = AuditEntry.objects.get(object_type="communities.resident", object_id=str(resident.pk))
    assert (entry.action, entry.user, entry.changes) == (
        AuditEntry.Action.UPDATE,
        staff_a,
        {"status": ["在住", "迁出"], "left_on": [None, "2025-06-01"]},
    )
    assert entry.community_id == district.a1.community.pk


def test_leaving_twice_is_a_conflict_and_a_future_date_is_refused(district, staff_a):
    resident = district.a1.residents[1]
    with pytest.raises(ValidationError):
        services.resident_record_death(resident=resident, by=staff_a, on=datetime.date(2999, 1, 1))
    services.resident_record_death(resident=resident, by=staff_a, on=RECENTLY)
    with pytest.raises(Conflict):
        services.resident_move_away(resident=resident, by=staff_a, on=RECENTLY)
    resident.refresh_from_db()
    assert resident.status == Resident.Status.DECEASED
    assert AuditEntry.objects.filter(object_id=str(resident.pk), object_type="communities.resident").count() == 1


def test_another_communitys_staff_cannot_change_the_status(district, staff_b):
    resident = district.a1.residents[1]
    with pytest.raises(Exception) as raised:  # OutOfScope (a 404)
        services.resident_move_away(resident=resident, by=staff_b, on=RECENTLY)
    assert type(raised.value).__name__ == "OutOfScope"
    resident.refresh_from_db()
    assert resident.status == Resident.Status.LIVING


def test_the_last_living_resident_leaving_archives_the_household_and_ends_its_plans(district, staff_a):
    household = district.a1.households[0]
    head, spouse = district.a1.residents[0], district.a1.residents[1]
    plan = VisitPlan.objects.create(
        household=household,
        rule=VisitPlan.Rule.ALONE_ELDERLY_WEEKLY,
        interval_days=7,
        next_due_on=datetime.date(2026, 3, 20),
    )
    services.resident_move_away(resident=spouse, by=staff_a, on=RECENTLY)
    household.refresh_from_db()
    assert household.archived_at is None
    services.resident_record_death(resident=head, by=staff_a, on=RECENTLY)
    household.refresh_from_db()
    plan.refresh_from_db()
    assert household.archived_at is not None
    assert plan.active is False


def test_staff_page_records_a_move_and_lists_show_living_by_default(district, staff_a, client_for, api_client_for):
    resident = district.a1.residents[1]
    client = client_for(staff_a)
    page = client.get(f"/registry/resident/{resident.pk}/")
    assert 'data-testid="leave-form"' in page.content.decode()
    answer = client.post(f"/registry/resident/{resident.pk}/leave/", {"status": "moved_away", "left_on": "2025-06-01"})
    assert answer.status_code == 302
    resident.refresh_from_db()
    assert resident.status == Resident.Status.MOVED_AWAY
    household_page = client.get(f"/registry/household/{resident.household_id}/").content.decode()
    assert 'data-testid="former-residents"' in household_page
    api = api_client_for(staff_a)
    listed = {row["id"] for row in api.get(f"/api/v1/residents/?household={resident.household_id}").json()["results"]}
    assert listed == {district.a1.residents[0].pk}
    moved = api.get(f"/api/v1/residents/?household={resident.household_id}&status=moved_away").json()["results"]
    assert [(row["id"], row["status"], row["left_on"]) for row in moved] == [(resident.pk, "moved_away", "2025-06-01")]
    every = api.get(f"/api/v1/residents/?household={resident.household_id}&status=all").json()["count"]
    assert every == 2
    assert api.get(f"/api/v1/residents/{resident.pk}/").json()["status"] == "moved_away"
    assert api.get("/api/v1/residents/?status=gone").status_code == 400


def test_api_steps(district, staff_a, staff_b, api_client_for):
    resident = district.a1.residents[3]
    outsider = api_client_for(staff_b).post(f"/api/v1/residents/{resident.pk}/move-away/", {"left_on": "2025-06-01"})
    assert outsider.status_code == 404
    api = api_client_for(staff_a)
    assert api.post(f"/api/v1/residents/{resident.pk}/move-away/", {"left_on": "2999-01-01"}).status_code == 400
    assert api.post(f"/api/v1/residents/{resident.pk}/move-away/", {"left_on": "x"}).status_code == 400
    answer = api.post(f"/api/v1/residents/{resident.pk}/record-death/", {"left_on": "2025-06-01"}, format="json")
    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["left_on"]) == ("deceased", "2025-06-01")
    again = api.post(f"/api/v1/residents/{resident.pk}/move-away/", {"left_on": "2025-06-01"}, format="json")
    assert again.status_code == 409
    household = api.get(f"/api/v1/households/?building={district.a1.buildings[0].pk}").json()["results"]
    assert resident.household_id in {row["id"] for row in household}  # the head still lives there


def test_the_registry_counts_only_living_residents(district, staff_a, district_official):
    before = level_counts(user=district_official, level="street", parent_id=district.street_a.pk)
    services.resident_move_away(resident=district.a1.residents[1], by=staff_a, on=RECENTLY)
    after = level_counts(user=district_official, level="street", parent_id=district.street_a.pk)
    assert (before.totals["resident"], after.totals["resident"]) == (24, 23)
    assert before.totals["household"] == after.totals["household"] == 12


# --- anonymisation ----------------------------------------------------------------------------------
def _dashboard_numbers(user, district):
    out = []
    for place in (Place("district", district.district), Place("community", district.a1.community)):
        board = Dashboard(
            user=user, place=place, period=Period(datetime.date(2024, 1, 1), datetime.date(2026, 3, 1)), now=NOW
        )
        out.append(
            (dict(board.request_totals), dict(board.organisation), dict(board.visits), board.volunteers["active"])
        )
    for level, parent in (
        ("district", None),
        ("street", district.street_a.pk),
        ("community", district.a1.community.pk),
    ):
        counts = level_counts(user=user, level=level, parent_id=parent)
        out.append((counts.totals, counts.by_child))
    return out


@pytest.fixture
def leaver(district, staff_a):
    """A1's first head of household, with an account, a request, a visit note and a token,
    who moved away on LONG_AGO; their spouse still lives there."""
    record = district.a1.residents[0]
    user = UserFactory(username="leaver", name=record.name, mobile=record.mobile, email="leaver@example.com")
    record.user = user
    record.save(update_fields=["user"])
    RoleFactory_resident(user, district)
    household = record.household
    household.note = f"{record.name} 腿脚不便，电话 {record.mobile}"
    household.save(update_fields=["note"])
    category = CategoryFactory()
    request = request_submit(
        by=user,
        category=category,
        description=f"我是{record.name}，楼道灯坏了，电话{record.mobile}",
        compound=household.building.compound,
        building=household.building,
        household=household,
        contact_name=record.name,
        contact_mobile=record.mobile,
    )
    Visit.objects.create(
        household=household,
        visitor=staff_a,
        visitor_label="网格员",
        visited_at=datetime.datetime(2024, 1, 5, 10, 0, tzinfo=SH),
        purpose=Purpose.choices[0][0],
        notes=f"{record.name}身体好",
    )
    token_issue(user=user, name="phone")
    services.resident_move_away(resident=record, by=staff_a, on=LONG_AGO)
    record.refresh_from_db()
    return record, request, user


def RoleFactory_resident(user, district):  # noqa: N802 - reads like the factory it stands for
    Role.objects.create(user=user, kind=Role.Kind.RESIDENT, community=district.a1.community)


def test_anonymisation_keeps_the_dashboards_and_forgets_the_person(district, staff_a, district_official, leaver):
    record, request, account = leaver
    name, mobile, id_number = record.name, record.mobile, record.id_number
    birth_year = record.birth_year
    recent = district.a2.residents[0]
    services.resident_move_away(resident=recent, by=UserFactory(is_superuser=True), on=RECENTLY)
    before = _dashboard_numbers(district_official, district)

    assert services.residents_anonymise_due(now=NOW) == 1

    assert _dashboard_numbers(district_official, district) == before
    record.refresh_from_db()
    assert (record.name, record.mobile, record.id_number, record.user_id) == ("居民", "", "", None)
    assert record.birth_year == birth_year - birth_year % 10
    assert record.anonymised_at == NOW
    assert (record.status, record.left_on) == (Resident.Status.MOVED_AWAY, LONG_AGO)
    account = User.objects.get(pk=account.pk)
    assert account.username == f"anonymised-{account.pk}"
    assert (account.is_active, account.name, account.mobile, account.email, account.has_usable_password()) == (
        False,
        "",
        None,
        "",
        False,
    )
    assert not ApiToken.objects.filter(user=account).exists()
    assert not Role.objects.filter(user=account).exists()
    assert not Notification.objects.filter(recipient=account).exists()
    request.refresh_from_db()
    assert (request.contact_name, request.contact_mobile) == ("居民", "")
    assert name not in request.description and mobile not in request.description
    assert request.description.startswith("我是居民，楼道灯坏了")
    household = Household.objects.get(pk=record.household_id)
    assert name not in household.note and mobile not in household.note
    assert household.archived_at is None  # the spouse still lives there
    visit = Visit.objects.get(household=household)
    assert visit.notes == "居民身体好"
    # Nothing anywhere in the registry still carries the person's numbers.
    assert not Resident.objects.with_mobile(mobile).exists()
    assert not Resident.objects.with_id_number(id_number).exists()
    entry = AuditEntry.objects.get(action=AuditEntry.Action.ANONYMISE)
    assert (entry.user, entry.object_id, entry.object_repr, entry.community_id) == (
        None,
        str(record.pk),
        "居民",
        district.a1.community.pk,
    )
    assert entry.detail["account_closed"] is True
    # The one who moved recently is kept as they were.
    recent.refresh_from_db()
    assert (recent.anonymised_at, recent.name != "居民") == (None, True)


def test_anonymisation_is_idempotent_and_batched(district, staff_a):
    for resident in district.b1.residents[:5]:
        services.resident_move_away(resident=resident, by=UserFactory(is_superuser=True), on=LONG_AGO)
    assert services.residents_anonymise_due(now=NOW, batch_size=2) == 5
    assert services.residents_anonymise_due(now=NOW, batch_size=2) == 0
    assert AuditEntry.objects.filter(action=AuditEntry.Action.ANONYMISE).count() == 5
    # B1's first three households had both residents leave (households 0, 1) or one (2).
    archived = Household.objects.filter(community=district.b1.community, archived_at__isnull=False).count()
    assert archived == 2


def test_the_retention_period_is_a_setting(district, settings):
    settings.RESIDENT_RETENTION_MONTHS = 6
    resident = district.b1.residents[0]
    services.resident_move_away(resident=resident, by=UserFactory(is_superuser=True), on=RECENTLY)
    assert services.retention_cutoff(NOW) == datetime.date(2025, 9, 15)
    assert services.residents_anonymise_due(now=NOW) == 1
    settings.RESIDENT_RETENTION_MONTHS = 24
    assert services.retention_cutoff(datetime.datetime(2026, 3, 31, 12, tzinfo=SH)) == datetime.date(2024, 3, 31)
    assert services.retention_cutoff(datetime.datetime(2026, 2, 28, 12, tzinfo=SH)) == datetime.date(2024, 2, 28)


def test_a_living_resident_is_never_anonymised(district):
    with pytest.raises(Conflict):
        services.resident_anonymise(resident=district.a1.residents[0], now=NOW)


def test_the_task_runs_the_service(district):
    services.resident_move_away(resident=district.b1.residents[0], by=UserFactory(is_superuser=True), on=LONG_AGO)
    assert anonymise_residents.apply().get() == 1
    assert ServiceRequest.objects.count() == 0


def test_archived_households_leave_the_default_list_and_come_back_when_someone_lives_there(
    district, staff_a, api_client_for, client_for
):
    household = district.a1.households[1]
    for resident in district.a1.residents[2:4]:
        services.resident_move_away(resident=resident, by=staff_a, on=RECENTLY)
    household.refresh_from_db()
    assert household.archived_at is not None
    api = api_client_for(staff_a)
    building = district.a1.buildings[0].pk
    listed = {row["id"] for row in api.get(f"/api/v1/households/?building={building}").json()["results"]}
    assert listed == {district.a1.households[0].pk, district.a1.households[2].pk}
    archived = api.get(f"/api/v1/households/?building={building}&archived=true").json()["results"]
    assert [row["id"] for row in archived] == [household.pk]
    assert api.get(f"/api/v1/households/{household.pk}/").status_code == 200
    page = client_for(staff_a).get(f"/registry/building/{building}/")
    assert [h.pk for h in page.context["archived_households"]] == [household.pk]
    # Staff register someone living there again: the nightly sync brings the household back.
    Resident.objects.create(household=household, name="新住户", relation=Resident.Relation.HEAD)
    assert services.households_archive_sync(now=NOW) == (0, 1)
    household.refresh_from_db()
    assert household.archived_at is None
