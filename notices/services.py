"""Every write to a notice (ARCHITECTURE rule 2): publish, read, confirm, relay.

:func:`notice_publish` checks the input and the photos (``baohe.uploads``), saves the notice
and re-checks it against the publisher's change scope in one transaction, writes one
:class:`~notices.models.Receipt` per household reached, and fans the notice out through the
notifications outbox in the same transaction: an inbox notification (and SMS, for those whose
preference says so) for every resident with an account, and — for a confirmation-required
notice — an SMS to each household with no account where a number is on the register
(``notifications.services.notify_numbers``). Every message has a dedupe key
(``notice:<id>:user:<id>``, ``notice:<id>:household:<id>:sms``), so nothing is sent twice.
The publication is written to the audit trail.

Who may publish: whoever may *change* the community (``Community.objects.restrict(user,
"change")``): its staff and secretary, the staff of its street, administrators. Street and
district officials read notices and their coverage but publish none (they are read-only
everywhere else too). Residents publish nothing.

:func:`notice_read` and :func:`notice_confirm` mark the receipts of the caller's own
households; :func:`notice_relay` lets the central household or party group leader who serves a
household mark it 已传达到户 (``notices.selectors.served_households``).
"""

from collections.abc import Sequence
from datetime import datetime

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from baohe.exceptions import Conflict, OutOfScope
from baohe.models import AuditEntry
from baohe.scoping import CHANGE, VIEW, check_in_scope
from baohe.services import audit
from baohe.uploads import MAX_PER_REQUEST, check_image
from communities.models import Building, Community, Compound, Household, Resident
from notifications.services import Message, NumberMessage, notify_many, notify_numbers

from .models import Notice, NoticeImage, Receipt
from .selectors import served_households

Audience = Notice.Audience
MAX_IMAGES = MAX_PER_REQUEST
KIND = "notice"


# --- access -------------------------------------------------------------------------------------
def access_notice_by_id(user: User, pk: int, action: str = VIEW) -> Notice:
    """The notice if ``user`` may ``action`` it — or, to view, if it reached a household they
    serve (a central household relaying it); the same 404 for "not yours" and "not there"."""
    visible = Notice.objects.restrict(user, action)
    notice = visible.filter(pk=pk).first()
    if notice is None and action == VIEW and user.is_authenticated:
        notice = Notice.objects.filter(pk=pk, receipts__household__in=served_households(user).values("pk")).first()
    if notice is None:
        raise OutOfScope
    return notice


# --- publishing ---------------------------------------------------------------------------------
def _target(notice: Notice) -> tuple[QuerySet[Household], QuerySet[Resident]]:
    """The households a notice reaches, and the residents whose accounts are told."""
    households = Household.objects.filter(community_id=notice.community_id, archived_at__isnull=True)
    residents = Resident.objects.living().filter(community_id=notice.community_id)
    if notice.audience == Audience.COMPOUND:
        households = households.filter(compound=notice.compound)
        residents = residents.filter(household__compound=notice.compound)
    elif notice.audience == Audience.BUILDING:
        households = households.filter(building=notice.building)
        residents = residents.filter(household__building=notice.building)
    elif notice.audience == Audience.PARTY_MEMBERS:
        residents = residents.filter(party_membership__isnull=False)
        households = households.filter(pk__in=residents.values("household_id"))
    elif notice.audience == Audience.VOLUNTEERS:
        # volunteers/ sits a floor above: reached by its reverse relation's name, never imported.
        if apps.is_installed("volunteers"):
            residents = residents.filter(volunteer__is_active=True)
        else:
            residents = residents.none()
        households = households.filter(pk__in=residents.values("household_id"))
    return households, residents


def _check_images(images: Sequence) -> list:
    images = [image for image in images if image]
    if len(images) > MAX_IMAGES:
        raise ValidationError(
            {
                "images": _("每条通知最多 %(max)s 张图片（本次 %(count)s 张）。")
                % {"max": MAX_IMAGES, "count": len(images)}
            }
        )
    checked, errors = [], []
    for image in images:
        try:
            checked.append(check_image(image))
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError({"images": errors})
    return checked


def notice_publish(
    *,
    by: User,
    community: Community,
    audience: str,
    title: str,
    body: str,
    compound: Compound | None = None,
    building: Building | None = None,
    pinned: bool = False,
    expires_at: datetime | None = None,
    requires_confirmation: bool = False,
    images: Sequence = (),
    request=None,
) -> Notice:
    """Publish a notice and tell every household it reaches (see the module docstring)."""
    if not Community.objects.restrict(by, CHANGE).filter(pk=community.pk).exists():
        raise OutOfScope
    notice = Notice(
        community=community,
        audience=audience,
        compound=compound,
        building=building,
        title=title.strip(),
        body=body.strip(),
        pinned=pinned,
        expires_at=expires_at,
        requires_confirmation=requires_confirmation,
        published_by=by,
        published_at=timezone.now(),
    )
    errors: dict[str, list[str]] = {}
    checked: list = []
    try:
        checked = _check_images(images)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        notice.full_clean(exclude=["street"])
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        notice.save()
        check_in_scope(notice, by, CHANGE)
        for image in checked:
            NoticeImage.objects.create(
                notice=notice,
                file=image.content,
                content_type=image.content_type,
                size=image.size,
                width=image.width,
                height=image.height,
            )
        households, residents = _target(notice)
        rows = list(households.order_by("pk").values_list("pk", "building_id"))
        Receipt.objects.bulk_create(
            [
                Receipt(
                    notice=notice,
                    household_id=pk,
                    building_id=building_id,
                    street_id=notice.street_id,
                    community_id=notice.community_id,
                )
                for pk, building_id in rows
            ],
            batch_size=1000,
        )
        notice.households_total = len(rows)
        notice.save(update_fields=["households_total"])
        told = _fan_out(notice, residents, {pk for pk, _building in rows})
        audit(
            user=by,
            action=AuditEntry.Action.CREATE,
            obj=notice,
            request=request,
            detail={"audience": notice.audience, "households": len(rows), **told},
        )
    return notice


def _fan_out(notice: Notice, residents: QuerySet[Resident], household_ids: set[int]) -> dict[str, int]:
    """The outbox rows for a new notice: inbox for accounts, SMS to households with no account
    (confirmation-required notices only). Returns how many of each."""
    title = _("【通知】%(title)s") % {"title": notice.title}
    link = notice.get_absolute_url()
    user_ids = sorted(set(residents.filter(user__isnull=False, user__is_active=True).values_list("user_id", flat=True)))
    inbox = notify_many(
        Message(
            recipient_id=user_id,
            kind=KIND,
            title=title,
            body=notice.body[:200],
            link=link,
            dedupe_key=f"notice:{notice.pk}:user:{user_id}",
        )
        for user_id in user_ids
    )
    sms = 0
    if notice.requires_confirmation and household_ids:
        with_account = set(
            Resident.objects.filter(household_id__in=household_ids, user__isnull=False).values_list(
                "household_id", flat=True
            )
        )
        # One number per household without an account: its head's, else the first resident's.
        heads: dict[int, str] = {}
        others: dict[int, str] = {}
        for household_id, relation, mobile in (
            Resident.objects.living()
            .filter(household_id__in=household_ids - with_account)
            .exclude(mobile="")
            .order_by("household_id", "pk")
            .values_list("household_id", "relation", "mobile")
        ):
            (heads if relation == Resident.Relation.HEAD else others).setdefault(household_id, mobile)
        numbers = {**others, **heads}
        sms = notify_numbers(
            NumberMessage(
                mobile=mobile,
                kind=KIND,
                title=_("【需确认】%(title)s，详情请联系楼栋党员中心户或社区。") % {"title": notice.title},
                dedupe_key=f"notice:{notice.pk}:household:{household_id}:sms",
            )
            for household_id, mobile in sorted(numbers.items())
        )
    return {"inbox": inbox, "sms_without_account": sms}


# --- receipts -----------------------------------------------------------------------------------
def _own_receipts(notice: Notice, user: User) -> QuerySet[Receipt]:
    return Receipt.objects.filter(notice=notice, household__residents__user=user)


def notice_read(*, notice: Notice, user: User) -> int:
    """Mark the notice read for the user's own households; returns how many receipts changed."""
    return Receipt.objects.filter(pk__in=_own_receipts(notice, user).values("pk"), read_at__isnull=True).update(
        read_at=timezone.now(), read_by=user
    )


def notice_confirm(*, notice: Notice, user: User) -> int:
    """我已知晓: confirm a confirmation-required notice for the user's households (read too)."""
    if not notice.requires_confirmation:
        raise Conflict(_("这条通知无需确认。"), code="no_confirmation")
    with transaction.atomic():
        receipts = list(_own_receipts(notice, user).select_for_update())
        if not receipts:
            raise OutOfScope
        now = timezone.now()
        changed = 0
        for receipt in receipts:
            if receipt.confirmed_at is not None:
                continue
            receipt.confirmed_at, receipt.confirmed_by = now, user
            fields = ["confirmed_at", "confirmed_by"]
            if receipt.read_at is None:
                receipt.read_at, receipt.read_by = now, user
                fields += ["read_at", "read_by"]
            receipt.save(update_fields=fields)
            changed += 1
    return changed


def notice_relay(*, notice: Notice, household_id: int, by: User) -> Receipt:
    """已传达到户: the central household or party group leader who serves the household told it in
    person. 404 when ``by`` does not serve it (or it was not sent the notice); 409 when the
    household has already read it or was already told."""
    with transaction.atomic():
        receipt = get_object_or_404(
            Receipt.objects.select_for_update().filter(household__in=served_households(by).values("pk")),
            notice=notice,
            household_id=household_id,
        )
        if receipt.relayed_at is not None:
            raise Conflict(_("已标记为已传达到户。"), code="already_relayed")
        if receipt.read_at is not None:
            raise Conflict(_("该户已在网上阅读，无需再标记传达。"), code="already_read")
        receipt.relayed_at, receipt.relayed_by = timezone.now(), by
        receipt.save(update_fields=["relayed_at", "relayed_by"])
    return receipt
