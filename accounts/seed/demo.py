"""Demo logins for ``manage.py seed_baohe``: one per persona, password ``baohe-demo-2026``.

Idempotent: users are found by username, their password is set again, and each keeps
exactly the one role listed here. The resident login belongs to a resident of 清华园小区's
和谐5栋 (username = mobile number = the resident's mobile).
"""

from communities.models import Building, Community, Resident, Street
from communities.seed.demo import HARMONY_NAME, QINGHUA

from ..models import Role, User

ORDER = 30

PASSWORD = "baohe-demo-2026"  # noqa: S105 - printed demo password, not a secret


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
    if linked is not None and linked.user.username == linked.mobile:
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
        ensure_user(username, **options)
        ctx.logins.append((label, username, PASSWORD))

    resident = resident_for_login(harmony)
    user = ensure_user(
        resident.mobile, name=resident.name, kind=kinds.RESIDENT, community=resident.community, mobile=resident.mobile
    )
    if resident.user_id != user.pk:
        resident.user = user
        resident.save(update_fields=["user"])
    ctx.logins.append((f"居民（{QINGHUA}{HARMONY_NAME}） resident", user.username, PASSWORD))
    ctx.log(f"  accounts: {len(personas) + 1} demo logins")
