"""Mobile and ID numbers encrypted at rest (baohe/crypto.py, baohe/fields.py): what the database
holds, lookups through the blind index, tampering, key rotation and the data migration."""

import base64

import pytest
from django.conf import settings
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import override_settings

from accounts.models import User
from baohe import crypto
from baohe.reencrypt import rewrite_table
from communities.models import Resident
from tests.factories import ResidentFactory, UserFactory
from tests.test_deploy_check import manage, production_profile

PASSWORD = "baohe-test-2026"  # noqa: S105


def key(byte):
    return base64.b64encode(bytes([byte]) * 32).decode()


OLD = f"old:{key(1)}"
NEW = f"new:{key(2)}"
INDEX_KEY = key(3)


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


def test_raw_sql_shows_no_plain_number(district, resident):
    records = [r for tree in (district.a1, district.b1) for r in tree.residents]
    plain = {r.mobile for r in records if r.mobile} | {r.id_number for r in records if r.id_number}
    assert plain

    rows = raw("select mobile, id_number, mobile_index, id_number_index from communities_resident")
    users = raw("select username, mobile, mobile_index from accounts_user")

    stored = {value for row in rows + users for value in row if value}
    assert not plain & stored
    assert not any(number in value for value in stored for number in plain)
    current = crypto.keys().current_id
    assert all(value.startswith(f"{current}$") for row in rows for value in row[:2] if value)
    # Each encryption is different: the same number twice does not give the same ciphertext.
    again = ResidentFactory(household=district.a1.households[1], mobile=records[0].mobile)
    stored_again = raw("select mobile from communities_resident where id in (%s, %s)", [records[0].pk, again.pk])
    assert stored_again[0][0] != stored_again[1][0]
    # In Python the attribute is the plain number.
    assert Resident.objects.get(pk=records[0].pk).mobile == records[0].mobile


def test_lookups_go_through_the_blind_index(district, resident):
    record = district.a1.residents[2]
    ending_in_x = ResidentFactory(household=district.a1.households[0], id_number="11010519491231002X")

    assert list(Resident.objects.with_mobile(record.mobile)) == [record]
    assert list(Resident.objects.with_id_number(record.id_number)) == [record]
    assert list(Resident.objects.with_id_number("11010519491231002x")) == [ending_in_x]
    assert list(Resident.objects.with_mobile("")) == []
    assert list(User.objects.with_mobile(f" {resident.mobile} ")) == [resident]
    assert Resident.objects.values_list("mobile", flat=True).get(pk=record.pk) == record.mobile


@pytest.mark.parametrize(
    "lookup",
    [{"mobile": "13900000001"}, {"id_number__iexact": "x"}, {"mobile__contains": "139"}, {"id_number__in": ["1"]}],
)
def test_comparing_an_encrypted_column_fails_loudly(district, lookup):
    with pytest.raises(FieldError, match="encrypted"):
        list(Resident.objects.filter(**lookup))


def test_empty_and_null_lookups_still_work(district):
    with_mobile = Resident.objects.exclude(mobile="").count()
    assert 0 < with_mobile == sum(1 for r in Resident.objects.all() if r.mobile)
    assert User.objects.filter(mobile__isnull=True).count() == User.objects.filter(mobile_index__isnull=True).count()


def test_tampered_or_moved_ciphertext_fails_loudly(district):
    a, b = district.a1.residents[0], district.a1.residents[1]
    (stored,) = raw("select mobile from communities_resident where id = %s", [a.pk])[0]
    body = bytearray(base64.urlsafe_b64decode(stored.split("$")[1] + "=="))
    body[-1] ^= 1
    tampered = stored.split("$")[0] + "$" + base64.urlsafe_b64encode(bytes(body)).decode().rstrip("=")
    raw("update communities_resident set mobile = %s where id = %s", [tampered, a.pk])
    # Someone copies a mobile's ciphertext into the ID column of another row.
    raw("update communities_resident set id_number = %s where id = %s", [stored, b.pk])

    with pytest.raises(crypto.DecryptionError, match="altered"):
        Resident.objects.get(pk=a.pk)
    with pytest.raises(crypto.DecryptionError, match="another column"):
        Resident.objects.get(pk=b.pk)
    raw("update communities_resident set mobile = %s where id = %s", ["lost$" + stored.split("$")[1], a.pk])
    with pytest.raises(crypto.DecryptionError, match="not in PERSONAL_DATA_KEYS"):
        Resident.objects.get(pk=a.pk)


def test_rotation_old_key_decrypts_new_key_writes_command_moves_every_row(district, resident):
    records = district.a1.residents[:3]
    with override_settings(PERSONAL_DATA_KEYS=f"{OLD},{settings.PERSONAL_DATA_KEYS}", BLIND_INDEX_KEY=INDEX_KEY):
        call_command("rotate_personal_data", verbosity=0)  # everything under "old" first
        assert {r[0].split("$")[0] for r in raw("select mobile from communities_resident where mobile <> ''")} == {
            "old"
        }

    with override_settings(PERSONAL_DATA_KEYS=f"{NEW},{OLD}", BLIND_INDEX_KEY=INDEX_KEY):
        assert Resident.objects.get(pk=records[0].pk).mobile == records[0].mobile  # old key still decrypts
        moved = ResidentFactory(household=district.a1.households[0], mobile="13712345678")
        assert raw("select mobile from communities_resident where id = %s", [moved.pk])[0][0].startswith("new$")

        call_command("rotate_personal_data", "--batch", "2", verbosity=0)

        key_ids = {
            value.split("$")[0]
            for row in raw("select mobile, id_number from communities_resident")
            + raw("select mobile, '' from accounts_user")
            for value in row
            if value
        }
        assert key_ids == {"new"}
        assert list(User.objects.with_mobile(resident.mobile)) == [resident]

    with override_settings(PERSONAL_DATA_KEYS=NEW, BLIND_INDEX_KEY=INDEX_KEY):  # the old key is gone
        assert [r.mobile for r in Resident.objects.filter(pk__in=[r.pk for r in records]).order_by("pk")] == [
            r.mobile for r in records
        ]
        assert list(Resident.objects.with_id_number(records[1].id_number)) == [records[1]]
        # Running it again rewrites nothing.
        assert rewrite_table("communities_resident") == 0


def test_a_new_blind_index_key_takes_effect_after_the_command(district):
    record = district.a1.residents[0]
    with override_settings(BLIND_INDEX_KEY=INDEX_KEY):
        assert not Resident.objects.with_mobile(record.mobile).exists()  # indexes still under the old key
        call_command("rotate_personal_data", verbosity=0)
        assert list(Resident.objects.with_mobile(record.mobile)) == [record]


def test_the_data_migration_encrypts_plain_rows_and_back(district, resident):
    records = district.a1.residents[:4]
    # The database as it was before the migration: plain numbers, no index.
    rewrite_table("communities_resident", mode="decrypt")
    rewrite_table("accounts_user", mode="decrypt")
    assert raw("select mobile, id_number_index from communities_resident where id = %s", [records[0].pk]) == [
        (records[0].mobile, None)
    ]

    assert rewrite_table("communities_resident", batch=3) == Resident.objects.count()
    rewrite_table("accounts_user")

    assert [r.id_number for r in Resident.objects.filter(pk__in=[r.pk for r in records]).order_by("pk")] == [
        r.id_number for r in records
    ]
    assert list(Resident.objects.with_mobile(records[3].mobile)) == [records[3]]
    assert list(User.objects.with_mobile(resident.mobile)) == [resident]
    assert not raw("select 1 from communities_resident where mobile = %s", [records[0].mobile])


def test_duplicate_id_number_refused_whatever_its_case(district):
    taken = ResidentFactory(household=district.a1.households[0], id_number="11010519491231002X")
    duplicate = Resident(household=district.b1.households[0], name="重复", id_number="11010519491231002x")

    # full_clean leaves the answer to the scoped check (communities.services.resident_id_number_check);
    # the database refuses the second row through the blind index, whatever the case of the X.
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
    assert Resident.objects.with_id_number(taken.id_number).count() == 1


def test_save_with_update_fields_keeps_the_index_current(district):
    record = district.a1.residents[0]
    record.mobile = "13612345678"
    record.save(update_fields=["mobile"])

    assert list(Resident.objects.with_mobile("13612345678")) == [record]
    assert raw("select mobile_index from communities_resident where id = %s", [record.pk])[0][0] == (
        crypto.blind_index("mobile", "13612345678")
    )


def test_login_by_mobile_with_an_opaque_username(district, client):
    user = UserFactory(username="resident_5f3a9c0d1e2b", mobile="13812345678")
    user.set_password(PASSWORD)
    user.save()

    response = client.post("/accounts/login/", {"username": "13812345678", "password": PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_second_account_with_the_same_mobile_is_refused(district, resident):
    other = User(username="someone_else", mobile=resident.mobile)
    with pytest.raises(Exception, match="该手机号已被另一个账号使用"):
        other.full_clean(exclude=["password"])


def test_production_refuses_to_start_without_keys(tmp_path):
    profile = production_profile()
    profile.pop("PERSONAL_DATA_KEYS")

    result = manage("check", env=profile, tmp_path=tmp_path)

    assert result.returncode != 0
    assert "Set PERSONAL_DATA_KEYS and BLIND_INDEX_KEY" in result.stderr


def test_a_malformed_key_is_refused(tmp_path):
    result = manage("check", env=production_profile() | {"PERSONAL_DATA_KEYS": "k1:c2hvcnQ="}, tmp_path=tmp_path)

    assert result.returncode != 0
    assert "at least 32 random bytes" in result.stdout + result.stderr
