"""Generic registry writes: save or delete a scoped row as one checked transaction; the audit trail.

Registry rows (compounds, buildings, households, residents, party organisation) have no
workflow of their own; what they share is here: validate, save, carry a change of street or
community down to the rows beneath, re-check the saved row against the user's scope inside
the same transaction so a write outside it rolls back and answers 404, and write one audit
line (create / update / delete with the changed fields, old → new, personal values masked).

:func:`audit` is the one way to add a line to the audit trail; :func:`record_change` is the one
way a change of a row becomes one (``scoped_save``, ``scoped_delete``, the admin's
``AuditedAdminMixin`` and the request services call it). :func:`audit_purge` is the only
delete of audit lines (older than ``AUDIT_RETENTION_DAYS``; a PostgreSQL trigger refuses the
rest, see ``baohe/migrations``).
"""

import contextvars
import datetime as dt
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import cache
from typing import Any, Protocol, TypeVar, runtime_checkable

from django.apps import apps
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from .client_ip import client_ip
from .masking import mask_id_number, mask_mobile, redact_numbers
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


def scoped_save(
    *,
    instance: M,
    by: AbstractBaseUser,
    exclude: Iterable[str] | None = None,
    request: HttpRequest | None = None,
) -> M:
    """Validate and save ``instance`` as ``by``; the result must lie in ``by``'s change scope.
    One audit line (create, or update with the changed fields) from ``request``'s client."""
    model = type(instance)
    with transaction.atomic():
        before = None
        if not instance._state.adding and instance.pk is not None:
            before = model._default_manager.filter(pk=instance.pk).first()
        instance.full_clean(exclude=exclude)
        instance.save()
        if isinstance(before, HasScopeIds) and isinstance(instance, HasScopeIds):
            if before.scope_ids() != instance.scope_ids():
                street_id, community_id = instance.scope_ids()
                propagate_scope(model, model._default_manager.filter(pk=instance.pk), street_id, community_id)
        check_in_scope(instance, by, CHANGE)
        record_change(user=by, instance=instance, before=before, request=request)
    return instance


def scoped_delete(*, instance: models.Model, by: AbstractBaseUser, request: HttpRequest | None = None) -> None:
    """Delete ``instance`` if ``by`` may change it; PROTECT relations raise ProtectedError.
    One audit line (delete, with the row's last values, masked)."""
    with transaction.atomic():
        check_in_scope(instance, by, CHANGE)
        record_change(user=by, instance=instance, deleted=True, request=request)
        instance.delete()


# --- the audit trail ------------------------------------------------------------------------------
# The request being answered, for the client address of audit lines written by services that are
# not handed the request (the request workflow, the volunteer and visit services): set by
# ``baohe.middleware.AuditRequestMiddleware``; ``None`` in the worker and in commands.
_current_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "baohe_audit_request", default=None
)


@contextmanager
def audit_request(request: HttpRequest) -> Iterator[None]:
    """While answering ``request``, audit lines without an explicit request take its client address."""
    token = _current_request.set(request)
    try:
        yield
    finally:
        _current_request.reset(token)


#: Fields masked in the audit trail on every model (their name says what they hold).
MOBILE_FIELDS = frozenset({"mobile", "contact_mobile", "phone"})
ID_FIELDS = frozenset({"id_number"})
#: Never written to the trail, not even masked (secrets and bookkeeping).
_SKIPPED_FIELDS = frozenset({"password", "created_at", "updated_at"})
HIDDEN = "******"


def _plain(value: Any) -> Any:
    """A JSON value for ``value`` (dates as ISO text, decimals and the rest as text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return str(value)


def _masked(model: type[models.Model], name: str, value: Any) -> Any:
    """``value`` of field ``name`` as the trail may hold it: mobile and ID numbers masked, the
    model's declared personal fields (``audit_personal_fields``) hidden, numbers in text redacted."""
    if value in (None, ""):
        return value
    if name in MOBILE_FIELDS:
        return mask_mobile(value)
    if name in ID_FIELDS:
        return mask_id_number(value)
    if name in getattr(model, "audit_personal_fields", ()):
        return HIDDEN
    if isinstance(value, str):
        return redact_numbers(value)
    return value


def _audited_fields(model: type[models.Model]) -> list[models.Field]:
    return [
        field
        for field in model._meta.concrete_fields
        if field.editable and not field.primary_key and field.name not in _SKIPPED_FIELDS
    ]


def row_values(instance: models.Model) -> dict[str, Any]:
    """The row's audited values (a relation as its id), masked: what a change is computed from."""
    model = type(instance)
    return {
        field.name: _masked(model, field.name, _plain(getattr(instance, field.attname)))
        for field in _audited_fields(model)
    }


def changed_fields(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for every field whose value differs (a new row: from ``None``;
    a deleted row: to ``None``); empty values left out of a creation or deletion."""
    before, after = before or {}, after or {}
    changes = {}
    for name in {**before, **after}:
        old, new = before.get(name), after.get(name)
        if old != new and not (old in (None, "") and new in (None, "")):
            changes[name] = [old, new]
    return changes


def record_change(
    *,
    user: AbstractBaseUser | None,
    instance: models.Model,
    before: models.Model | dict[str, Any] | None = None,
    deleted: bool = False,
    request: HttpRequest | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry | None:
    """One audit line for a row that ``user`` created (``before`` is ``None``), changed (``before``
    is the row, or its :func:`row_values`, as it was) or is about to delete (``deleted``). An
    update that changed no audited field writes nothing."""
    from .models import AuditEntry

    old = row_values(before) if isinstance(before, models.Model) else before
    if deleted:
        action, changes = AuditEntry.Action.DELETE, changed_fields(row_values(instance), None)
    elif old is None:
        action, changes = AuditEntry.Action.CREATE, changed_fields(None, row_values(instance))
    else:
        action, changes = AuditEntry.Action.UPDATE, changed_fields(old, row_values(instance))
        if not changes:
            return None
    return audit(user=user, action=action, obj=instance, request=request, changes=changes, detail=detail)


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
    object's street and community when it has them (``scope_ids()``), unless given. Without
    ``request``, the client address is the one of the request being answered, if any.
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)
        if street_id is None and community_id is None and isinstance(obj, HasScopeIds):
            street_id, community_id = obj.scope_ids()
    if user is not None and not username:
        username = user.get_username()
    if request is None:
        request = _current_request.get()
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


def audit_purge(*, now: dt.datetime | None = None, batch_size: int = 5000) -> int:
    """Delete audit lines older than ``AUDIT_RETENTION_DAYS``, in batches; the number deleted.

    The only delete of audit lines. On PostgreSQL each batch names its cut-off in the
    transaction-local setting ``baohe.audit_purge_before``, which the table's trigger requires
    (and it never lets a line younger than the legal minimum go, whatever the setting says).
    """
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS)
    total = 0
    while True:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('baohe.audit_purge_before', %s, true)", [cutoff.isoformat()])
            ids = list(
                AuditEntry.objects.filter(created_at__lt=cutoff)
                .order_by("created_at")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                return total
            deleted, _per_model = AuditEntry.objects.filter(pk__in=ids).delete()
            total += deleted


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
