"""Generic registry writes: save or delete a scoped row as one checked transaction.

Registry rows (compounds, buildings, households, residents, party organisation) have no
workflow of their own; what they share is here: validate, save, carry a change of street or
community down to the rows beneath, and re-check the saved row against the user's scope
inside the same transaction so a write outside it rolls back and answers 404.
"""

from functools import cache

from django.apps import apps
from django.db import transaction

from .client_ip import client_ip
from .models import AuditEntry, CommunityScopedModel
from .scoping import CHANGE, check_in_scope


@cache
def _scope_children(model):
    """Concrete scoped models whose ``scope_parent`` points at ``model``."""
    children = []
    for candidate in apps.get_models():
        if issubclass(candidate, CommunityScopedModel) and candidate.scope_parent:
            field = candidate._meta.get_field(candidate.scope_parent)
            if field.related_model is model:
                children.append(candidate)
    return tuple(children)


def propagate_scope(model, parents, street_id, community_id):
    """Set street/community on every row below ``parents`` (a queryset of ``model``)."""
    for child in _scope_children(model):
        below = child._default_manager.filter(**{f"{child.scope_parent}__in": parents})
        below.update(street_id=street_id, community_id=community_id)
        propagate_scope(child, below.values("pk"), street_id, community_id)


def scoped_save(*, instance, by, exclude=None):
    """Validate and save ``instance`` as ``by``; the result must lie in ``by``'s change scope."""
    model = type(instance)
    with transaction.atomic():
        before = None
        if instance.pk is not None and hasattr(instance, "scope_ids"):
            before = model._default_manager.filter(pk=instance.pk).first()
        instance.full_clean(exclude=exclude)
        instance.save()
        if before is not None and before.scope_ids() != instance.scope_ids():
            street_id, community_id = instance.scope_ids()
            propagate_scope(model, model._default_manager.filter(pk=instance.pk), street_id, community_id)
        check_in_scope(instance, by, CHANGE)
    return instance


def scoped_delete(*, instance, by):
    """Delete ``instance`` if ``by`` may change it; PROTECT relations raise ProtectedError."""
    with transaction.atomic():
        check_in_scope(instance, by, CHANGE)
        instance.delete()


def audit(*, user, action, obj, request=None):
    """Record that ``user`` did ``action`` on ``obj`` (e.g. read a full personal record)."""
    ip = client_ip(request) if request is not None else None
    return AuditEntry.objects.create(
        user=user,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        ip_address=ip,
    )
