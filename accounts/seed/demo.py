"""Demo logins for ``manage.py seed_baohe``: one per persona, password ``baohe-demo-2026``.

Idempotent: users are found by username, their password is set again, and each keeps
exactly the one role listed here. The resident login belongs to a resident of 清华园小区's
和谐5栋 (who signs in with their mobile number; the username is opaque).

Every non-resident demo login has a second factor ready: a confirmed authenticator with the
published :data:`DEMO_TOTP_SECRET` (add it to any authenticator app, or compute codes with
``pyotp.TOTP(DEMO_TOTP_SECRET).now()``) and the backup codes :data:`DEMO_BACKUP_CODES` (each
works once; seeding again restores them). ``seed_baohe`` prints both next to the logins.
"""

from base64 import b32decode

from django_otp.plugins.otp_totp.models import TOTPDevice

from communities.models import Building, Community, Resident, Street
from communities.seed.demo import HARMONY_NAME, QINGHUA, seed_pending_transfer

from .. import two_factor
from ..models import Role, User

ORDER = 30

PASSWORD = "baohe-demo-2026"  # noqa: S105 - printed demo password, not a secret
# The demo logins' authenticator secret (base32 of b"baohe-demo-totp-2026"): published, demo only.
DEMO_TOTP_SECRET = "MJQW62DFFVSGK3LPFV2G65DQFUZDAMRW"  # noqa: S105 - printed demo secret, not a secret
DEMO_BACKUP_CODES = tuple(f"demo{n:04d}" for n in range(1, two_factor.BACKUP_CODE_COUNT + 1))


def ensure_demo_second_factor(user):
    """A confirmed authenticator with the demo secret and the demo backup codes, fresh."""
    key = b32decode(DEMO_TOTP_SECRET).hex()
    user.totpdevice_set.exclude(name=two_factor.TOTP_DEVICE_NAME).delete()
    TOTPDevice.objects.update_or_create(
        user=user,
        name=two_factor.TOTP_DEVICE_NAME,
        defaults={"key": key, "confirmed": True, "last_t": -1, "drift": 0, "throttling_failure_count": 0},
    )
    two_factor.backup_codes_reset(user=user, codes=DEMO_BACKUP_CODES)


# The demo resident's (opaque) username; they sign in with their mobile number.
DEMO_RESIDENT_USERNAME = "resident_demo"


def ensure_user(username, *, name, kind, street=None, community=None, superuser=False, mobile=None):
    user, _ = User.objects.get_or_create(username=username)
    user.name = name
    user.mobile = mobile
    user.is_active = True
    user.is_superuser = superuser
    user.is_staff = superuser
    user.set_password(PASSWORD)
    user.save()
    role, _ = Role.objects.get_or_create(user=user, kind=kind, street=street, community=community)
    user.roles.exclude(pk=role.pk).delete()
    return user


def resident_for_login(building):
    """A household head of 和谐5栋 who is not a party member and is served by a central household."""
    linked = (
        Resident.objects.filter(household__building=building, user__isnull=False)
        .select_related("user")
        .order_by("id")
        .first()
    )
    if linked is not None and linked.user.username == DEMO_RESIDENT_USERNAME:
        return linked
    candidates = Resident.objects.filter(household__building=building, relation=Resident.Relation.HEAD).exclude(
        mobile=""
    )
    preferred = candidates.filter(party_membership__isnull=True, household__served_by__isnull=False)
    return (preferred.order_by("household__unit", "household__room", "id").first()) or candidates.order_by(
        "household__unit", "household__room", "id"
    ).first()


def seed(ctx):
    harmony = Building.objects.select_related("compound__community__street").get(
        compound__name=QINGHUA, name=HARMONY_NAME
    )
    qinghua_community = harmony.compound.community
    binhu = Street.objects.get(name="滨湖世纪社区")
    wanci = Community.objects.get(name="万慈社区", street__name="万年埠街道")

    kinds = Role.Kind
    personas = (
        ("管理员 administrator", "admin", {"name": "系统管理员", "kind": kinds.ADMIN, "superuser": True}),
        ("区领导 district official", "district", {"name": "许建国", "kind": kinds.DISTRICT_OFFICIAL}),
        (
            f"街道领导（{binhu.name}） street official",
            "street_binhu",
            {"name": "刘晓燕", "kind": kinds.STREET_OFFICIAL, "street": binhu},
        ),
        (
            # Street staff re-route the requests a community returned (退单 → 改派, issue 15).
            f"街道工作人员（{binhu.name}） street staff",
            "street_staff_binhu",
            {"name": "郑洁", "kind": kinds.STAFF, "street": binhu},
        ),
        (
            f"社区工作者（{qinghua_community.name}） community staff",
            "staff_qinghua",
            {"name": "张倩", "kind": kinds.STAFF, "community": qinghua_community},
        ),
        (
            f"社区书记（{qinghua_community.name}） community secretary",
            "secretary_qinghua",
            {"name": "赵志强", "kind": kinds.SECRETARY, "community": qinghua_community},
        ),
        (
            f"社区工作者（{wanci.name}） staff of another community",
            "staff_other",
            {"name": "杨帆", "kind": kinds.STAFF, "community": wanci},
        ),
    )
    for label, username, options in personas:
        ensure_demo_second_factor(ensure_user(username, **options))
        ctx.logins.append((label, username, PASSWORD, f"+ TOTP {DEMO_TOTP_SECRET}"))
    ctx.login_notes.extend(
        [
            "Logins marked + TOTP then ask for a code (二次验证): add the secret to an authenticator app",
            "  (time-based, 6 digits; the same secret for every demo login), or print the current code with",
            f"  .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('{DEMO_TOTP_SECRET}').now())\"",
            f"  or use a backup code, each once per login until the next seed: {' '.join(DEMO_BACKUP_CODES[:5])} …",
        ]
    )

    resident = resident_for_login(harmony)
    # A database seeded before usernames were opaque: its resident login (username = mobile)
    # was renamed by accounts.0007; take it over rather than add a second account with that mobile.
    renamed = User.objects.with_mobile(resident.mobile).exclude(username=DEMO_RESIDENT_USERNAME).first()
    if renamed is not None and not User.objects.filter(username=DEMO_RESIDENT_USERNAME).exists():
        renamed.username = DEMO_RESIDENT_USERNAME
        renamed.save(update_fields=["username"])
    user = ensure_user(
        DEMO_RESIDENT_USERNAME,
        name=resident.name,
        kind=kinds.RESIDENT,
        community=resident.community,
        mobile=resident.mobile,
    )
    if resident.user_id != user.pk:
        resident.user = user
        resident.save(update_fields=["user"])
    # Residents sign in with their mobile number (the username is opaque, accounts.models.opaque_username).
    ctx.logins.append((f"居民（{QINGHUA}{HARMONY_NAME}） resident", resident.mobile, PASSWORD))
    transfers = seed_pending_transfer(requested_by=User.objects.get(username="staff_other"), to_community=wanci)
    ctx.log(f"  accounts: {len(personas) + 1} demo logins; {transfers} pending 迁入 request")
