"""Model fields for personal numbers encrypted at rest (``baohe.crypto``).

``EncryptedCharField`` is a CharField in Python (forms, validators, templates and masking see
the plain number; ``max_length`` applies to it) whose column holds only the ciphertext (text).
``BlindIndexField`` is the column beside it holding the keyed HMAC of the normalised number
(NULL when empty); its value is always derived from the source attribute, so it is right at
validation time (unique constraints on it work in forms), on ``save()`` and in ``bulk_create``.

Only ``isnull`` and comparing with the empty value work on an encrypted column (every
encryption of a number differs): anything else raises ``FieldError`` naming the lookup to use
instead (``Resident.objects.with_mobile`` / ``with_id_number``, ``User.objects.with_mobile``),
so a forgotten ``filter(mobile=...)`` fails loudly instead of silently finding nobody.

A ``QuerySet.update(mobile=...)`` or ``bulk_update`` does not recompute the index: write these
numbers through ``save()`` (``save(update_fields=[...])`` adds the index column itself, see
:func:`with_index_fields`) or set both columns explicitly.
"""

from __future__ import annotations

from django.core.exceptions import FieldError
from django.db import models
from django.db.models.lookups import Exact, IsNull

from . import crypto


class _EmptyOnlyExact(Exact):
    """``field=""`` (or ``None``) only: a non-empty number cannot be compared encrypted."""

    def get_prep_lookup(self):
        if self.rhs not in ("", None) and not hasattr(self.rhs, "resolve_expression"):
            raise FieldError(
                f"{self.lhs.target.model.__name__}.{self.lhs.target.name} is encrypted: look it up by its blind "
                f"index ({self.lhs.target.model.__name__}.objects.with_{self.lhs.target.index_kind}(...))."
            )
        return super().get_prep_lookup()


class EncryptedCharField(models.CharField):
    """A short personal number (mobile, ID number), AES-GCM encrypted in its column."""

    description = "Encrypted personal number"

    def __init__(self, *args, index_kind: str = "", **kwargs):
        self.index_kind = index_kind
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.index_kind:
            kwargs["index_kind"] = self.index_kind
        return name, path, args, kwargs

    def db_type(self, connection):
        return connection.data_types["TextField"] % {}

    def rel_db_type(self, connection):
        return self.db_type(connection)

    def cast_db_type(self, connection):
        return self.db_type(connection)

    @property
    def crypto_context(self) -> str:
        return f"{self.model._meta.label_lower}.{self.name}"

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return crypto.decrypt(value, context=self.crypto_context)

    def get_db_prep_value(self, value, connection, prepared=False):
        if not prepared:
            value = self.get_prep_value(value)
        if value is None or hasattr(value, "as_sql"):
            return value
        return crypto.encrypt(str(value), context=self.crypto_context)

    def get_lookup(self, lookup_name):
        if lookup_name == "exact":
            return _EmptyOnlyExact
        if lookup_name == "isnull":
            return IsNull
        model = getattr(self, "model", None)
        label = f"{model.__name__}.{self.name}" if model else self.name
        raise FieldError(f"{label} is encrypted: only exact lookups through its blind index work, not {lookup_name}.")

    def get_transform(self, lookup_name):
        return None


class _DerivedIndex:
    """The blind index attribute: always computed from the source attribute (memoised)."""

    def __init__(self, field: BlindIndexField):
        self.field = field

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = getattr(instance, self.field.source)
        memo_key = f"_{self.field.attname}_memo"
        memo = instance.__dict__.get(memo_key)
        if memo is None or memo[0] != value:
            memo = (value, crypto.blind_index(self.field.kind, value))
            instance.__dict__[memo_key] = memo
        instance.__dict__[self.field.attname] = memo[1]
        return memo[1]

    def __set__(self, instance, value):
        # Loaded or assigned values are replaced by the derived one on the next read; keeping
        # one in __dict__ tells Django the column is loaded (not deferred).
        instance.__dict__[self.field.attname] = value


class BlindIndexField(models.CharField):
    """HMAC-SHA256 (hex) of the normalised ``source`` number; NULL when it is empty."""

    description = "Blind index of an encrypted number"

    def __init__(self, *args, source: str = "", kind: str = "", **kwargs):
        self.source, self.kind = source, kind
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.update(source=self.source, kind=self.kind)
        for key, default in (("max_length", 64), ("null", True), ("blank", True), ("editable", False)):
            if kwargs.get(key) == default:
                kwargs.pop(key)
        return name, path, args, kwargs

    def contribute_to_class(self, cls, name, private_only=False):
        super().contribute_to_class(cls, name, private_only=private_only)
        setattr(cls, self.attname, _DerivedIndex(self))


def with_index_fields(model, update_fields):
    """``update_fields`` plus the blind index of every encrypted number in it (None stays None)."""
    if update_fields is None:
        return None
    names = set(update_fields)
    extra = [
        field.name
        for field in model._meta.concrete_fields
        if isinstance(field, BlindIndexField) and field.source in names and field.name not in names
    ]
    return [*update_fields, *extra] if extra else update_fields


def validated_exclude(model, exclude):
    """``exclude`` without the blind index of any encrypted number that is being validated, so a
    form that edits ``mobile`` also checks the unique constraint on ``mobile_index``."""
    if not exclude:
        return exclude
    exclude = set(exclude)
    for field in model._meta.concrete_fields:
        if isinstance(field, BlindIndexField) and field.source not in exclude:
            exclude.discard(field.name)
    return exclude
