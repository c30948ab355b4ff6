"""One audit trail (issue 12, part C): changes through scoped_save / scoped_delete, the admin and
the request services; sign-ins, failed sign-ins, lockouts and role changes; never editable, kept
``AUDIT_RETENTION_DAYS`` and purged only then."""

import datetime

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from baohe.models import AuditEntry
from baohe.services import audit, audit_purge
from service_requests import services as request_services
from tests.factories import PASSWORD, CategoryFactory, id_number_for

pytestmark = pytest.mark.django_db
Action = AuditEntry.Action
ID_NUMBER = id_number_for(999_000)


def lines(*actions):
    """The audit lines of ``actions`` (sign-ins of the test clients left out unless asked), oldest first."""
    return list(AuditEntry.objects.filter(action__in=actions).order_by("pk"))


def backdate(entry, days):
    """Move a line into the past (the trigger refuses UPDATE: tests switch triggers off for it)."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "UPDATE baohe_auditentry SET created_at = %s WHERE id = %s",
            [timezone.now() - datetime.timedelta(days=days), entry.pk],
        )
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


# --- changes -------------------------------------------------------------------------------------
def test_an_api_edit_of_a_resident_is_one_update_with_masked_old_and_new_numbers(district, staff_a, api_client_for):
    record = district.a1.residents[0]
    old_mobile = record.mobile
    client = api_client_for(staff_a)

    response = client.patch(
        reverse("resident-detail", args=[record.pk]), {"mobile": "13900001111", "name": "张新名"}, format="json"
    )

    assert response.status_code == 200
    [entry] = lines(Action.UPDATE)
    assert (entry.user, entry.object_type, entry.object_id, entry.ip_address) == (
        staff_a,
        "communities.resident",
        str(record.pk),
        "127.0.0.1",
    )
    assert entry.changes == {
        "mobile": [f"{old_mobile[:3]}****{old_mobile[-4:]}", "139****1111"],
        "name": [record.name, "张新名"],
    }
    assert (entry.street_id, entry.community_id) == (district.street_a.pk, district.a1.community.pk)
    assert "13900001111" not in str(entry.changes)


def test_an_update_that_changes_nothing_writes_no_line(district, staff_a, api_client_for):
    record = district.a1.residents[0]

    response = api_client_for(staff_a).patch(
        reverse("resident-detail", args=[record.pk]), {"name": record.name}, format="json"
    )

    assert response.status_code == 200
    assert lines(Action.UPDATE) == []


def test_api_create_and_delete_write_one_line_each_with_the_row_masked(district, staff_a, api_client_for):
    client = api_client_for(staff_a)
    household = district.a1.households[0]

    created = client.post(
        reverse("resident-list"),
        {
            "household": household.pk,
            "name": "李四",
            "mobile": "13700002222",
            "id_number": ID_NUMBER,
            "gender": "M",
            "birth_year": 1990,
            "relation": "child",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    deleted = client.delete(reverse("resident-detail", args=[pk]))

    assert deleted.status_code == 204
    create, delete = lines(Action.CREATE, Action.DELETE)
    assert (create.action, create.object_id, create.user) == (Action.CREATE, str(pk), staff_a)
    assert create.changes["mobile"] == [None, "137****2222"]
    assert create.changes["id_number"] == [None, f"{ID_NUMBER[:4]}**********{ID_NUMBER[-4:]}"]
    assert create.changes["household"] == [None, household.pk]
    assert (delete.action, delete.object_id) == (Action.DELETE, str(pk))
    assert delete.changes["mobile"] == ["137****2222", None]
    assert delete.community_id == district.a1.community.pk


def test_a_write_outside_scope_leaves_no_line(district, staff_a, api_client_for):
    other = district.a2.residents[0]

    response = api_client_for(staff_a).patch(reverse("resident-detail", args=[other.pk]), {"name": "x"}, format="json")

    assert response.status_code == 404
    assert AuditEntry.objects.count() == 0


def test_the_admin_audits_its_saves_and_deletes(district, admin_client, admin_user):
    household = district.a1.households[0]
    url = reverse("admin:communities_household_change", args=[household.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {key: ("" if value is None else value) for key, value in data.items()}
    data.update(room="909", lives_alone_elderly="on")

    response = admin_client.post(url, data)

    assert response.status_code == 302
    [entry] = lines(Action.UPDATE)
    assert (entry.user, entry.object_type, entry.object_id, entry.ip_address) == (
        admin_user,
        "communities.household",
        str(household.pk),
        "127.0.0.1",
    )
    assert entry.changes == {"room": [household.room, "909"], "lives_alone_elderly": [False, True]}


def test_a_request_submission_and_each_step_are_audited(district, staff_a, resident):
    category = CategoryFactory()
    request = request_services.request_submit(
        by=resident,
        category=category,
        description="楼道灯不亮，电话 13812345678",
        compound=district.a1.compound,
        contact_mobile="13812345678",
    )
    request_services.request_accept(request=request, by=staff_a)

    create, update = lines(Action.CREATE, Action.UPDATE)
    assert (create.user, create.object_type, create.object_repr) == (
        resident,
        "service_requests.servicerequest",
        request.number,
    )
    assert create.changes["contact_mobile"] == [None, "138****5678"]
    assert create.changes["description"] == [None, "楼道灯不亮，电话 138****5678"]
    assert create.community_id == district.a1.community.pk
    assert (update.user, update.changes, update.detail) == (
        staff_a,
        {"status": ["submitted", "accepted"]},
        {"step": "accepted"},
    )


# --- sign-ins and roles ----------------------------------------------------------------------------
def test_a_page_sign_in_is_one_login_line_placed_in_the_community(client, staff_a, district):
    response = client.post(reverse("accounts:login"), {"username": "staff_a", "password": PASSWORD})

    assert response.status_code == 302
    [entry] = lines(Action.LOGIN)
    assert (entry.user, entry.ip_address, entry.detail, entry.community_id) == (
        staff_a,
        "127.0.0.1",
        {"channel": "page"},
        district.a1.community.pk,
    )


def test_a_failed_sign_in_names_the_account_masked_never_the_password(client, resident, district):
    response = client.post(reverse("accounts:login"), {"username": resident.mobile, "password": "wrong-password"})

    assert response.status_code == 200
    [entry] = lines(Action.LOGIN_FAILED)
    masked = f"{resident.mobile[:3]}****{resident.mobile[-4:]}"
    assert (entry.user, entry.username, entry.object_repr, entry.object_id, entry.ip_address) == (
        None,
        masked,
        masked,
        str(resident.pk),
        "127.0.0.1",
    )
    assert entry.community_id == district.a1.community.pk
    assert "wrong-password" not in str(entry.detail) + entry.username + entry.object_repr


def test_the_lockout_is_one_line(client, staff_a, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("accounts:login"), {"username": "staff_a", "password": "wrong-password"})

    assert len(lines(Action.LOGIN_FAILED)) == settings.AXES_FAILURE_LIMIT
    [entry] = lines(Action.LOCKED_OUT)
    assert (entry.username, entry.object_id, entry.ip_address) == ("s*****a", str(staff_a.pk), "127.0.0.1")


def test_an_api_token_is_one_login_line(client, resident):
    response = client.post(
        reverse("api-token"), {"username": "resident_a1", "password": PASSWORD}, content_type="application/json"
    )

    assert response.status_code == 200
    [entry] = lines(Action.LOGIN)
    assert (entry.user, entry.detail, entry.ip_address) == (resident, {"channel": "api"}, "127.0.0.1")


def test_role_changes_in_the_admin_are_audited(district, admin_client, admin_user, staff_a):
    role = Role.objects.get(user=staff_a)
    url = reverse("admin:accounts_role_change", args=[role.pk])

    response = admin_client.post(
        url, {"user": staff_a.pk, "kind": "secretary", "street": "", "community": district.a2.community.pk}
    )
    assert response.status_code == 302
    admin_client.post(reverse("admin:accounts_role_delete", args=[role.pk]), {"post": "yes"})

    change, removal = lines(Action.ROLE_CHANGE)
    assert (change.user, change.object_type, change.object_id, change.ip_address) == (
        admin_user,
        "accounts.user",
        str(staff_a.pk),
        "127.0.0.1",
    )
    assert change.changes == {
        "kind": ["staff", "secretary"],
        "community": [district.a1.community.pk, district.a2.community.pk],
    }
    assert change.community_id == district.a2.community.pk
    assert removal.changes == {"kind": ["secretary", None], "community": [district.a2.community.pk, None]}
    assert not Role.objects.filter(pk=role.pk).exists()


# --- never editable, kept AUDIT_RETENTION_DAYS ------------------------------------------------------
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_raw_sql_cannot_change_or_delete_a_line(staff_a):
    entry = audit(user=staff_a, action=Action.EXPORT, object_type="communities.resident")

    with pytest.raises(DatabaseError, match="never changed"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE baohe_auditentry SET reason = 'x' WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError, match="retention purge"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM baohe_auditentry WHERE id = %s", [entry.pk])

    entry.refresh_from_db()
    assert entry.reason == ""


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_even_the_purge_setting_cannot_delete_a_line_younger_than_six_months(staff_a):
    entry = audit(user=staff_a, action=Action.EXPORT)
    backdate(entry, 100)

    with pytest.raises(DatabaseError, match="retention purge"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('baohe.audit_purge_before', %s, true)", [timezone.now().isoformat()])
        cursor.execute("DELETE FROM baohe_auditentry WHERE id = %s", [entry.pk])

    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_the_purge_deletes_only_lines_older_than_the_retention(staff_a, settings):
    settings.AUDIT_RETENTION_DAYS = 200
    old = [audit(user=staff_a, action=Action.EXPORT) for _ in range(3)]
    kept = [audit(user=staff_a, action=Action.EXPORT) for _ in range(2)]
    for entry in old:
        backdate(entry, 201)
    backdate(kept[0], 199)

    assert audit_purge(batch_size=2) == 3

    assert sorted(AuditEntry.objects.values_list("pk", flat=True)) == sorted(entry.pk for entry in kept)


def test_a_retention_under_six_months_is_refused_at_startup(settings):
    settings.AUDIT_RETENTION_DAYS = 182

    with pytest.raises(SystemCheckError, match="AUDIT_RETENTION_DAYS"):
        call_command("check")


def test_the_admin_shows_the_trail_read_only(admin_client, staff_a):
    entry = audit(user=staff_a, action=Action.EXPORT, object_type="communities.resident", object_repr="居民导出")

    listing = admin_client.get(reverse("admin:baohe_auditentry_changelist"), {"q": "居民导出"})
    change = admin_client.post(reverse("admin:baohe_auditentry_change", args=[entry.pk]), {"reason": "x"})
    add = admin_client.get(reverse("admin:baohe_auditentry_add"))
    delete = admin_client.post(reverse("admin:baohe_auditentry_delete", args=[entry.pk]), {"post": "yes"})

    assert listing.status_code == 200
    assert "居民导出" in listing.content.decode()
    assert (change.status_code, add.status_code, delete.status_code) == (403, 403, 403)
    entry.refresh_from_db()
    assert entry.reason == ""
