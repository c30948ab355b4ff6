"""District-scale accounts for ``manage.py seed_baohe --scale district``.

The demo's personas (password ``baohe-demo-2026``: admin, district, street_binhu,
staff_qinghua, secretary_qinghua, staff_other and a resident of 清华园小区 · 和谐5栋), and
the people who work the district: in every community three grid workers
(``grid_<community code>_<n>``) and a secretary (``secretary_<code>``), in every street a
staff member (``street_staff_<code>``) and an official (``street_official_<code>``), all
without a usable password. About 12% of households have a resident account (the household
head's; username ``resident_<resident id>``, no usable password; they would sign in with the
mobile number), linked to the resident record.

Resident accounts are made set-based in the database (``INSERT … SELECT``); the
household is picked by a fixed hash of its id, so every run gives the same accounts.
"""

import time

from django.contrib.auth.hashers import make_password
from django.db import connection
from django.utils import timezone

from baohe import bulk, crypto
from communities.models import Community, Resident, Street

from ..models import Role, User
from .demo import seed as seed_personas

ORDER = 30

GRID_WORKERS = 3  # per community
RESIDENT_ACCOUNTS_PER_MILLE = 120  # households whose head has an account
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
GIVEN = "静军丽洋敏涛霞斌婷鹏琳峰颖磊娟超燕勇萍杰倩辉芳强慧明梅华玲宇"


def staff_name(index):
    return SURNAMES[index * 7 % len(SURNAMES)] + GIVEN[index * 11 % len(GIVEN)] + GIVEN[index * 5 % len(GIVEN)]


def seed(ctx):
    bulk.require_postgresql()
    if User.objects.filter(username__startswith="grid_").exists():
        ctx.log("  accounts: district-scale accounts are already there")
        seed_personas(ctx)
        return
    bulk.bulk_session()
    started = time.monotonic()
    unusable = make_password(None)  # "!…": nobody can sign in with it
    now = timezone.now()

    # Staff of every community and street, with their roles (a few thousand rows).
    people = []  # (username, name, kind, street_id, community_id)
    index = 0
    for community in Community.objects.select_related("street").order_by("code"):
        for n in range(1, GRID_WORKERS + 1):
            index += 1
            people.append(
                (
                    f"grid_{community.code}_{n}",
                    f"{staff_name(index)}（{community.name}网格员）",
                    Role.Kind.STAFF,
                    None,
                    community.pk,
                )
            )
        index += 1
        people.append(
            (
                f"secretary_{community.code}",
                f"{staff_name(index)}（{community.name}书记）",
                Role.Kind.SECRETARY,
                None,
                community.pk,
            )
        )
    for street in Street.objects.order_by("code"):
        index += 1
        people.append(
            (f"street_staff_{street.code}", f"{staff_name(index)}（{street.name}）", Role.Kind.STAFF, street.pk, None)
        )
        index += 1
        people.append(
            (
                f"street_official_{street.code}",
                f"{staff_name(index)}（{street.name}领导）",
                Role.Kind.STREET_OFFICIAL,
                street.pk,
                None,
            )
        )
    users = User.objects.bulk_create(
        [User(username=u, name=name, password=unusable, date_joined=now) for u, name, _k, _s, _c in people]
    )
    Role.objects.bulk_create(
        [
            Role(user=user, kind=kind, street_id=street_id, community_id=community_id)
            for user, (_u, _n, kind, street_id, community_id) in zip(users, people, strict=True)
        ]
    )

    # Resident accounts: the first member (head or tenant) of about 12% of households, with an
    # opaque username; the mobile is re-encrypted for the user column (each column has its own
    # crypto context) and keeps its blind index, so they sign in with it.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TEMP TABLE district_accounts ON COMMIT DROP AS
            SELECT DISTINCT ON (r.household_id) r.id AS resident_id, 'resident_' || r.id AS username, r.name,
                   r.mobile, r.mobile_index, r.community_id
            FROM communities_resident r
            WHERE r.mobile <> '' AND abs(hashint8extended(r.household_id, 5)) %% 1000 < %(share)s
            ORDER BY r.household_id, r.id
            """,
            {"share": RESIDENT_ACCOUNTS_PER_MILLE},
        )
        cursor.execute("SELECT resident_id, mobile FROM district_accounts")
        rows = cursor.fetchall()
        seal = crypto.encrypter(f"{User._meta.label_lower}.mobile")
        context = f"{Resident._meta.label_lower}.mobile"
        cursor.execute(
            "UPDATE district_accounts a SET mobile = v.mobile FROM unnest(%s::bigint[], %s::text[]) AS v(id, mobile) "
            "WHERE a.resident_id = v.id",
            [[pk for pk, _m in rows], [seal(crypto.decrypt(stored, context=context)) for _pk, stored in rows]],
        )
        cursor.execute(
            """
            INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email, is_staff,
                                       is_active, date_joined, name, mobile, mobile_index, credentials_version)
            SELECT %(password)s, false, a.username, '', '', '', false, true, %(now)s, a.name, a.mobile,
                   a.mobile_index, 0
            FROM district_accounts a ORDER BY a.resident_id
            """,
            {"password": unusable, "now": now},
        )
        accounts = cursor.rowcount
        cursor.execute(
            """
            INSERT INTO accounts_role (created_at, updated_at, user_id, kind, community_id)
            SELECT %(now)s, %(now)s, u.id, 'resident', a.community_id
            FROM district_accounts a JOIN accounts_user u ON u.username = a.username ORDER BY u.id
            """,
            {"now": now},
        )
        cursor.execute(
            """
            UPDATE communities_resident r SET user_id = u.id
            FROM district_accounts a JOIN accounts_user u ON u.username = a.username
            WHERE r.id = a.resident_id
            """
        )
    bulk.analyze(User, Role, Resident)

    # The demo's personas on top, so the same logins work at both scales.
    seed_personas(ctx)
    ctx.log(
        f"  accounts: {len(people)} staff and officials, {accounts} resident accounts "
        f"({time.monotonic() - started:.1f}s)"
    )
