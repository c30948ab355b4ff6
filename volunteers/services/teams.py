"""Registering volunteers, team membership (staff adding, a volunteer joining or leaving), and
saving teams and service projects."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from accounts.models import User
from baohe.exceptions import Conflict, OutOfScope
from baohe.scoping import VIEW
from baohe.services import scoped_save
from communities.models import Resident

from ..models import ServiceProject, TeamMembership, Volunteer, VolunteerTeam
from .common import own_resident, own_volunteer, require_staff, staff_rows


def volunteer_register(*, resident: Resident, by: User, skills: str = "") -> Volunteer:
    """Register ``resident`` as a volunteer (again active if they had left); the resident
    themselves or staff who may change the resident."""
    own = resident.user_id is not None and resident.user_id == by.pk
    if not own and not staff_rows(Resident, by).filter(pk=resident.pk).exists():
        raise OutOfScope(Resident._meta.verbose_name)
    with transaction.atomic():
        volunteer = Volunteer.objects.select_for_update().filter(resident=resident).first()
        if volunteer is None:
            volunteer = Volunteer(resident=resident, skills=skills.strip())
            volunteer.full_clean()
            try:
                with transaction.atomic():
                    volunteer.save()
            except IntegrityError:  # registered a moment ago by a parallel request
                volunteer = Volunteer.objects.get(resident=resident)
        elif not volunteer.is_active or (skills and skills.strip() != volunteer.skills):
            volunteer.is_active = True
            volunteer.skills = skills.strip() or volunteer.skills
            volunteer.full_clean()
            volunteer.save(update_fields=["is_active", "skills", "updated_at"])
    return volunteer


def volunteer_for_signup(user: User) -> Volunteer:
    """The resident's volunteer record, registering them on their first sign-up."""
    volunteer = own_volunteer(user)
    if volunteer is not None:
        return volunteer
    resident = own_resident(user)
    if resident is None:
        raise ValidationError(_("您的账号尚未关联社区登记的住户，请联系社区工作人员登记后再报名。"))
    return volunteer_register(resident=resident, by=user)


def team_add_member(*, team: VolunteerTeam, volunteer: Volunteer, by: User) -> TeamMembership:
    """Add ``volunteer`` to ``team``: staff of the team's community, or the volunteer joining
    a team of their own community (``by`` is then the volunteer's own user)."""
    own = volunteer.resident.user_id is not None and volunteer.resident.user_id == by.pk
    if own:
        if not VolunteerTeam.objects.restrict(by, VIEW).filter(pk=team.pk).exists():
            raise OutOfScope(VolunteerTeam._meta.verbose_name)
    else:
        if not staff_rows(VolunteerTeam, by).filter(pk=team.pk).exists():
            raise OutOfScope(VolunteerTeam._meta.verbose_name)
        if not staff_rows(Volunteer, by).filter(pk=volunteer.pk).exists():
            raise ValidationError({"volunteer": _("请选择您所在社区的志愿者。")})
    if not team.is_active:
        raise Conflict(_("志愿服务队「%(team)s」已停止活动，不能加入。") % {"team": team}, code="team_inactive")
    with transaction.atomic():
        if TeamMembership.objects.filter(team=team, volunteer=volunteer).exists():
            raise Conflict(
                _("%(name)s 已是「%(team)s」的队员。") % {"name": volunteer, "team": team}, code="already_member"
            )
        membership = TeamMembership(team=team, volunteer=volunteer)
        membership.full_clean(exclude=["street", "community"])
        try:
            with transaction.atomic():
                membership.save()
        except IntegrityError as error:
            raise Conflict(
                _("%(name)s 已是「%(team)s」的队员。") % {"name": volunteer, "team": team}, code="already_member"
            ) from error
    return membership


def team_join(*, team_id: int, by: User) -> TeamMembership:
    """A resident joins a team of their community (registering as a volunteer if needed)."""
    team = get_object_or_404(VolunteerTeam.objects.restrict(by, VIEW), pk=team_id)
    return team_add_member(team=team, volunteer=volunteer_for_signup(by), by=by)


def team_remove_member(*, membership: TeamMembership, by: User) -> None:
    """Leave a team (the member) or remove a member (staff). The leader leaves the post too."""
    own = membership.volunteer.resident.user_id == by.pk
    if not own and not staff_rows(TeamMembership, by).filter(pk=membership.pk).exists():
        raise OutOfScope(TeamMembership._meta.verbose_name)
    with transaction.atomic():
        team = VolunteerTeam.objects.select_for_update().get(pk=membership.team_id)
        if team.leader_id == membership.volunteer_id:
            team.leader = None
            team.save(update_fields=["leader", "updated_at"])
        membership.delete()


def project_save(*, instance: ServiceProject, by: User) -> ServiceProject:
    require_staff(by)
    return scoped_save(instance=instance, by=by)


def team_save(*, instance: VolunteerTeam, by: User) -> VolunteerTeam:
    require_staff(by)
    return scoped_save(instance=instance, by=by)
