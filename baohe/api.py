"""Base API machinery: scoped viewsets and serializers, pagination, error answers.

Every view under ``/api/`` that serves model rows stands on one of the scoped bases here (a
test walks the URL conf and holds every view to it, ``tests/test_api_scope.py``):

- :class:`ScopedQuerysetMixin` restricts the view's queryset with ``restrict(user, "view")``
  *before* the view shapes it (``shape_queryset``: annotations, per-action prefetches); views
  never override ``get_queryset``. :class:`ScopedReadOnlyModelViewSet` is the read-only base
  (lists and details); :class:`ScopedModelViewSet` the registry CRUD base.
- :class:`ScopedModelViewSet`: a write needs the row in the user's change scope (403 when
  visible but not changeable), runs in one transaction and re-checks the saved row
  (``scoped_save``), so a write outside scope rolls back.
- :class:`ScopedObjectMixin` (:class:`ScopedStepViewSet`): a workflow step or a read below one
  row named in the URL reaches that row only through ``access`` (the app's
  ``access_<entity>_by_id(user, pk, action)``) or ``scoped_model``: 404 outside scope.
- :class:`ScopedModelSerializer` restricts every related-field choice to what the user may
  change, and runs the model's ``full_clean()`` so cross-level checks answer 400 with field errors.
  A blank choice is answered ``null`` (:class:`BlankChoicesAsNullMixin`; the schema says so).
- :func:`exception_handler` turns service errors into answers: Django ``ValidationError`` →
  400 with field errors, :class:`~baohe.exceptions.Conflict` → 409, ``ProtectedError`` → 409,
  a throttle's refusal or :class:`~baohe.exceptions.RateLimited` → 429 ``{"detail", "code"}``
  in Chinese with ``Retry-After``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any, ClassVar

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Model, ProtectedError, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied, Throttled
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.validators import UniqueTogetherValidator
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import error_detail
from .exceptions import Conflict, RateLimited
from .scoping import CHANGE, VIEW, RestrictedQuerySet, restricted
from .services import scoped_delete, scoped_save
from .throttling import throttled_message
from .todo import todo_items


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


class ScopedQuerysetMixin:
    """The view's rows are the user's: ``restrict(user, VIEW)`` on ``queryset`` first, then the
    view's own :meth:`shape_queryset`. Override ``shape_queryset``, never ``get_queryset``."""

    request: Any

    def get_queryset(self) -> QuerySet:
        rows = super().get_queryset()  # type: ignore[misc]
        if not isinstance(rows, RestrictedQuerySet):
            raise TypeError(f"{type(self).__name__}.queryset has no restrict()")
        return self.shape_queryset(rows.restrict(self.request.user, VIEW))

    def shape_queryset(self, queryset: QuerySet) -> QuerySet:
        """Annotate, prefetch or narrow the (already restricted) rows; per action if need be."""
        return queryset


class ScopedReadOnlyModelViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Read-only lists and details of the rows the user may see (404 outside scope)."""


class ScopedObjectMixin:
    """An endpoint acting on (or reading below) the one row named by ``scoped_url_kwarg``.

    The row is reached only through :meth:`scoped_object`: the app's ``access`` helper
    (``access_<entity>_by_id(user, pk, action)``, the same 404 for "not yours" and "not
    there"), or, without one, ``scoped_model`` restricted to the user.
    """

    access: ClassVar[Callable[..., Any] | None] = None
    scoped_model: ClassVar[type[Model] | None] = None
    scoped_url_kwarg: ClassVar[str] = "pk"
    request: Any
    kwargs: dict[str, Any]

    def scoped_object(self, action: str = VIEW) -> Any:
        pk = self.kwargs[self.scoped_url_kwarg]
        access = type(self).access
        if access is not None:
            return access(self.request.user, pk, action)
        if self.scoped_model is None:
            raise TypeError(f"{type(self).__name__} declares neither access nor scoped_model")
        return get_object_or_404(restricted(self.scoped_model, self.request.user, action), pk=pk)


class ScopedStepViewSet(ScopedObjectMixin, viewsets.GenericViewSet):
    """A workflow step ``POST <rows>/{<scoped_url_kwarg>}/<step>/`` (one ``create``), on a router."""

    pagination_class = None
    filter_backends = ()


class ScopedModelViewSet(ScopedQuerysetMixin, viewsets.ModelViewSet):
    """Registry CRUD, restricted by ``restrict()``; every write through ``scoped_save``."""

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
            scoped_save(instance=instance, by=self.request.user, request=self.request)
            for key, value in m2m.items():
                getattr(instance, key).set(value)
        serializer.instance = instance

    def perform_destroy(self, instance):
        scoped_delete(instance=instance, by=self.request.user, request=self.request)


# --- 我的待办 (baohe.todo) ------------------------------------------------------------------------
class TodoRowSerializer(serializers.Serializer):
    text = serializers.CharField()
    url = serializers.CharField()
    note = serializers.CharField()
    state = serializers.CharField()


class TodoItemSerializer(serializers.Serializer):
    key = serializers.CharField()
    section = serializers.CharField()
    title = serializers.CharField(source="label")
    count = serializers.IntegerField()
    url = serializers.CharField()
    urgent = serializers.BooleanField()
    rows = TodoRowSerializer(many=True)


class TodoApi(APIView):
    """``GET /api/v1/todo/``: the signed-in user's 我的待办 — each item's count and the list behind
    it, from every app's provider (``baohe.todo``), within the user's scope; empty for residents."""

    @extend_schema(responses=TodoItemSerializer(many=True), tags=["todo"], summary="我的待办（各项数量和链接）")
    def get(self, request):
        items = todo_items(request.user, timezone.now())
        return Response(TodoItemSerializer(items, many=True).data)
