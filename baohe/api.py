"""Base API machinery: scoped viewsets and serializers, pagination, error answers.

- :class:`ScopedModelViewSet` restricts its queryset with ``restrict(user, "view")``; a write
  needs the row in the user's change scope (403 when visible but not changeable), runs in one
  transaction and re-checks the saved row (``scoped_save``), so a write outside scope rolls back.
- :class:`ScopedModelSerializer` restricts every related-field choice to what the user may
  change, and runs the model's ``full_clean()`` so cross-level checks answer 400 with field errors.
  A blank choice is answered ``null`` (:class:`BlankChoicesAsNullMixin`; the schema says so).
- :func:`exception_handler` turns service errors into answers: Django ``ValidationError`` →
  400 with field errors, :class:`~baohe.exceptions.Conflict` → 409, ``ProtectedError`` → 409,
  a throttle's refusal or :class:`~baohe.exceptions.RateLimited` → 429 ``{"detail", "code"}``
  in Chinese with ``Retry-After``.
"""

import copy
import math

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied, Throttled
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.validators import UniqueTogetherValidator
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import error_detail
from .exceptions import Conflict, RateLimited
from .scoping import CHANGE, VIEW
from .services import scoped_delete, scoped_save
from .throttling import throttled_message


def validation_error_detail(error):
    """A Django ValidationError as DRF field errors (``__all__`` → ``non_field_errors``)."""
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if key == NON_FIELD_ERRORS else key): [str(m) for m in messages]
            for key, messages in error.message_dict.items()
        }
    return {"non_field_errors": [str(m) for m in error.messages]}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        return Response(validation_error_detail(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Conflict):
        return Response({"detail": str(exc.message), "code": exc.code}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, Throttled):
        wait = math.ceil(exc.wait) if exc.wait else None
        detail = throttled_message(wait) if wait else error_detail(429)[1]
        headers = {"Retry-After": str(wait)} if wait else None
        return Response(
            {"detail": str(detail), "code": "throttled"}, status=status.HTTP_429_TOO_MANY_REQUESTS, headers=headers
        )
    if isinstance(exc, RateLimited):
        return Response(
            {"detail": str(exc.message), "code": exc.code},
            status=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(exc.wait)},
        )
    if isinstance(exc, ProtectedError):
        return Response(
            {"detail": str(_("仍有下属记录引用它，不能删除。请先移除或转移下属记录。")), "code": "protected"},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A related-object choice limited to what the requesting user may change."""

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        if request is not None and hasattr(queryset, "restrict"):
            queryset = queryset.restrict(request.user, CHANGE)
        return queryset


class BlankAsNullChoiceField(serializers.ChoiceField):
    """A choice the model may leave blank: answered ``null``, never ``""`` outside the enum;
    ``null`` or ``""`` accepted in (stored as ``""``)."""

    def __init__(self, **kwargs):
        kwargs["allow_null"] = True
        super().__init__(**kwargs)

    def validate_empty_values(self, data):
        return super().validate_empty_values("" if data is None else data)

    def to_representation(self, value):
        return None if value in ("", None) else super().to_representation(value)


class BlankAsNullChoiceFieldSchema(OpenApiSerializerFieldExtension):
    """Its answer is the enum or ``null`` (the request side keeps ``""``)."""

    target_class = BlankAsNullChoiceField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "response" and "enum" in schema:
            schema["enum"] = [choice for choice in schema["enum"] if choice != ""]
        return schema


class BlankChoicesAsNullMixin:
    """For a ModelSerializer: every model field with choices and ``blank=True`` becomes a
    :class:`BlankAsNullChoiceField`, so no blank choice reaches a reader as ``""``."""

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if model_field.choices and model_field.blank and issubclass(field_class, serializers.ChoiceField):
            field_class = BlankAsNullChoiceField
        return field_class, kwargs


class ScopedModelSerializer(BlankChoicesAsNullMixin, serializers.ModelSerializer):
    serializer_related_field = ScopedRelatedField

    def get_validators(self):
        # validate() runs full_clean(), which checks every model constraint with the model's own
        # message ("包含 小区 和 楼栋号 的 楼栋 已经存在。"); DRF's copy of a multi-field unique
        # constraint would answer first, naming raw field names ("字段 compound, number …").
        return [v for v in super().get_validators() if not isinstance(v, UniqueTogetherValidator)]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model = self.Meta.model
        instance = copy.copy(self.instance) if self.instance is not None else model()
        many = {f.name for f in model._meta.many_to_many}
        for key, value in attrs.items():
            if key not in many:
                setattr(instance, key, value)
        exclude = [f.name for f in model._meta.fields if f.name not in attrs and not f.editable] + list(many)
        try:
            instance.full_clean(exclude=exclude)
        except DjangoValidationError as error:
            raise serializers.ValidationError(validation_error_detail(error)) from error
        return attrs


class ScopedModelViewSet(viewsets.ModelViewSet):
    """Registry CRUD, restricted by ``restrict()``; every write through ``scoped_save``."""

    def get_queryset(self):
        return super().get_queryset().restrict(self.request.user, VIEW)

    def get_object(self):
        obj = super().get_object()
        if self.request.method not in SAFE_METHODS:
            model = type(obj)
            if not model._default_manager.restrict(self.request.user, CHANGE).filter(pk=obj.pk).exists():
                raise PermissionDenied(_("您可以查看但无权修改这条记录。"))
        return obj

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer)

    def _save(self, serializer):
        many = {f.name for f in serializer.Meta.model._meta.many_to_many}
        data = dict(serializer.validated_data)
        m2m = {key: data.pop(key) for key in list(data) if key in many}
        instance = serializer.instance or serializer.Meta.model()
        for key, value in data.items():
            setattr(instance, key, value)
        with transaction.atomic():
            scoped_save(instance=instance, by=self.request.user)
            for key, value in m2m.items():
                getattr(instance, key).set(value)
        serializer.instance = instance

    def perform_destroy(self, instance):
        scoped_delete(instance=instance, by=self.request.user)
