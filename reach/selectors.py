"""Reads for reaching the people who serve one's building: who serves which households in which
role, the consents in force, and what a resident may do with each server on "my building"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from baohe.models import AuditEntry
from baohe.services import audit
from communities.models import Building, Household, Resident
from partybuilding.models import CentralHousehold, PartyGroup

from .models import ContactConsent, ContactThread, ServerRole

if TYPE_CHECKING:
    from accounts.models import User


def served_households_q(resident: Resident | int, role: str) -> Q:
    """The households ``resident`` serves in ``role`` (a filter on ``Household``)."""
    if role == ServerRole.BUILDING_HEAD:
        return Q(building__head=resident)
    if role == ServerRole.GROUP_LEADER:
        return Q(building__party_groups__leader__resident=resident)
    if role == ServerRole.CENTRAL_HOUSEHOLD:
        return Q(served_by__member__resident=resident) | Q(central_household__member__resident=resident)
    raise ValueError(role)


def roles_of(resident: Resident) -> list[str]:
    """The roles in which ``resident`` serves households (three small queries)."""
    roles = []
    if Building.objects.filter(head=resident).exists():
        roles.append(ServerRole.BUILDING_HEAD.value)
    if PartyGroup.objects.filter(leader__resident=resident).exists():
        roles.append(ServerRole.GROUP_LEADER.value)
    if CentralHousehold.objects.filter(member__resident=resident).exists():
        roles.append(ServerRole.CENTRAL_HOUSEHOLD.value)
    return roles


def own_records(user: User) -> QuerySet[Resident]:
    """The registry records of ``user`` who live in the district (their own, through the scope)."""
    return Resident.objects.restrict(user).living().filter(user=user)


def served_household_of(user: User, server: Resident, role: str) -> Household | None:
    """A household of ``user``'s that ``server`` serves in ``role``, or ``None``."""
    return (
        Household.objects.filter(served_households_q(server, role), residents__in=own_records(user))
        .order_by("pk")
        .first()
    )


def active_consent(resident: Resident, role: str) -> ContactConsent | None:
    return ContactConsent.objects.filter(
        resident=resident, role=role, number_kind=ContactConsent.NumberKind.MOBILE, withdrawn_at=None
    ).first()


def add_contacts(household: Household, viewer: User, servers: list[dict[str, Any]]) -> None:
    """For "my building" (``communities.selectors.household_servers``): give each server whose
    consent for that role is in force their full number (``tel``), written to the audit trail as
    a display of a personal number, and a message link (``message_url``) to anyone with an
    account. One query for the consents, one audit line per number shown.

    The caller passes a household ``viewer`` lives in (their own registry record), so the
    servers listed are the ones serving the viewer.
    """
    keyed = [entry for entry in servers if entry.get("resident") is not None and entry.get("role_key")]
    if not keyed:
        return
    consents = {
        (consent.resident_id, consent.role): consent
        for consent in ContactConsent.objects.filter(
            resident_id__in={entry["resident"].pk for entry in keyed},
            number_kind=ContactConsent.NumberKind.MOBILE,
            withdrawn_at=None,
        )
    }
    for entry in keyed:
        server: Resident = entry["resident"]
        if server.user_id and server.user_id != viewer.pk:
            entry["message_url"] = reverse("reach:write", args=[entry["role_key"], server.pk])
        consent = consents.get((server.pk, entry["role_key"]))
        if consent is None or not server.mobile:
            continue
        entry["tel"] = server.mobile
        audit(
            user=viewer,
            action=AuditEntry.Action.VIEW_PERSONAL,
            obj=server,
            reason=_("服务人已同意向所服务住户公开号码"),
            detail={"fields": ["mobile"], "consent": consent.pk, "role": consent.role, "household": household.pk},
        )


def threads_for(user: User) -> QuerySet[ContactThread]:
    """The threads ``user`` is a party to, newest first, with what a list shows."""
    return (
        ContactThread.objects.restrict(user)
        .select_related("author", "server", "household__building__compound")
        .order_by("-last_message_at", "-id")
    )
