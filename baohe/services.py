"""Generic registry writes: save or delete a scoped row as one checked transaction.

Registry rows (compounds, buildings, households, residents, party organisation) have no
workflow of their own; what they share is here: validate, save, carry a change of street or
community down to the rows beneath, and re-check the saved row against the user's scope
inside the same transaction so a write outside it rolls back and answers 404.
"""

from collections.abc import Iterable
from functools import cache
from typing import Any, Protocol, TypeVar, runtime_checkable

from django.apps import apps
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from .client_ip import client_ip
from .masking import redact_numbers
from .models import AuditEntry, CommunityScopedModel
from .scoping import CHANGE, check_in_scope, restricted

M = TypeVar("M", bound=models.Model)


@runtime_checkable
class HasScopeIds(Protocol):
    """A row that knows its ``(street_id, community_id)``: scoped rows, communities, streets."""

    def scope_ids(self) -> tuple[int | None, int | None]: ...


@cache
def _scope_children(model: type[models.Model]) -> tuple[type[CommunityScopedModel], ...]:
    """Concrete scoped models whose ``scope_parent`` points at ``model``."""
    children: list[type[CommunityScopedModel]] = []
    for candidate in apps.get_models():
        if issubclass(candidate, CommunityScopedModel) and candidate.scope_parent:
            field = candidate._meta.get_field(candidate.scope_parent)
            if field.related_model is model:
                children.append(candidate)
    return tuple(children)


def propagate_scope(
    model: type[models.Model], parents: models.QuerySet[Any, Any], street_id: int | None, community_id: int | None
) -> None:
    """Set street/community on every row below ``parents`` (a queryset of ``model``)."""
    for child in _scope_children(model):
        below = child._default_manager.filter(**{f"{child.scope_parent}__in": parents})
        below.update(street_id=street_id, community_id=community_id)
        propagate_scope(child, below.values("pk"), street_id, community_id)


def scoped_save(*, instance: M, by: AbstractBaseUser, exclude: Iterable[str] | None = None) -> M:
    """Validate and save ``instance`` as ``by``; the result must lie in ``by``'s change scope."""
    model = type(instance)
    with transaction.atomic():
        before = None
        if instance.pk is not None and isinstance(instance, HasScopeIds):
            before = model._default_manager.filter(pk=instance.pk).first()
        instance.full_clean(exclude=exclude)
        instance.save()
        if isinstance(before, HasScopeIds) and isinstance(instance, HasScopeIds):
            if before.scope_ids() != instance.scope_ids():
                street_id, community_id = instance.scope_ids()
                propagate_scope(model, model._default_manager.filter(pk=instance.pk), street_id, community_id)
        check_in_scope(instance, by, CHANGE)
    return instance


def scoped_delete(*, instance: models.Model, by: AbstractBaseUser) -> None:
    """Delete ``instance`` if ``by`` may change it; PROTECT relations raise ProtectedError."""
    with transaction.atomic():
        check_in_scope(instance, by, CHANGE)
        instance.delete()


def audit(
    *,
    user: AbstractBaseUser | None,
    action: str,
    obj: models.Model | None = None,
    request: HttpRequest | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    reason: str = "",
    changes: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
    username: str = "",
    street_id: int | None = None,
    community_id: int | None = None,
) -> AuditEntry:
    """Add one line to the audit trail: ``user`` did ``action`` (an ``AuditEntry.Action``) on
    ``obj`` (or on ``object_type``/``object_id`` when there is no single row, e.g. an export of a
    table), from the client address of ``request``.

    ``changes`` is ``{field: [old, new]}`` and ``detail`` any further facts (an export's table,
    rows and filters); callers mask personal values in both. The text shown for the object is
    redacted here (mobile and ID numbers inside it are masked). The entry is placed under the
    object's street and community when it has them (``scope_ids()``), unless given.
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)
        if street_id is None and community_id is None and isinstance(obj, HasScopeIds):
            street_id, community_id = obj.scope_ids()
    if user is not None and not username:
        username = user.get_username()
    return AuditEntry.objects.create(
        user_id=user.pk if user is not None else None,
        username=redact_numbers(username)[:150],
        action=action,
        object_type=object_type[:100],
        object_id=str(object_id)[:64],
        object_repr=redact_numbers(object_repr)[:200],
        reason=reason[:200],
        changes=changes or {},
        detail=detail or {},
        street_id=street_id,
        community_id=community_id,
        ip_address=client_ip(request) if request is not None else None,
    )


def personal_reveal(
    *, user: AbstractBaseUser, obj: models.Model, reason: str, request: HttpRequest | None = None
) -> dict[str, str]:
    """The full personal numbers of ONE record (``obj.PERSONAL_FIELDS``) for ``user``, with
    ``reason`` (a ``baohe.personal.RevealReason``); written to the audit trail as one
    ``VIEW_PERSONAL`` line.

    The caller has found ``obj`` among the rows ``user`` may view (404 otherwise). Revealing needs
    the change scope: a row the user may only view raises ``PermissionDenied`` (403, as every
    write to a visible row the user may not change) and nothing is written.
    """
    from .personal import RevealReason, personal_fields

    if reason not in RevealReason.values:
        raise ValidationError({"reason": _("请选择查看原因。")}, code="invalid_choice")
    fields = personal_fields(obj)
    model = type(obj)
    with transaction.atomic():
        if not restricted(model, user, CHANGE).filter(pk=obj.pk).exists():
            raise PermissionDenied(_("您可以查看但无权修改这条记录，不能查看完整号码。"))
        current = model._default_manager.get(pk=obj.pk)
        audit(
            user=user,
            action=AuditEntry.Action.VIEW_PERSONAL,
            obj=obj,
            request=request,
            reason=reason,
            detail={"fields": sorted(fields)},
        )
    return {name: getattr(current, name) or "" for name in fields}
