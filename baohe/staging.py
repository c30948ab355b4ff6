"""Photos kept across a form error: one mechanism for every photo form.

A form that comes back with an error used to drop the photos the person had chosen. Now the
view makes one call on the error path, :func:`keep_photos`: each chosen photo that passes the
upload pipeline (``baohe.uploads.check_image``) is stored for the signed-in user as a
:class:`~baohe.models.StagedUpload` (files under ``MEDIA_ROOT/staged/``) and the re-rendered
form shows it as a thumbnail (served by :func:`baohe.views.staged_upload`, owner only) with a
× (remove) checkbox and a hidden token. On resubmit :class:`PhotosField` returns the staged
photos that were not removed plus the newly chosen files; the count limit counts both. The
service checks them all as usual and calls :func:`consume` once it has attached them, which
deletes the staged rows (and, after COMMIT, their files).

A staged photo is referenced only by a token signed with ``django.core.signing`` (salt per
purpose, the owner's user id inside, valid ``STAGED_UPLOAD_HOURS``): another user's token, a
tampered or an expired one resolves to nothing. :func:`purge` (nightly,
``baohe.tasks.purge_staged_uploads``) deletes what was never resubmitted.

The photo picker (``templates/baohe/widgets/photos.html``) offers 拍照 (``capture``) and 相册,
both plain file inputs of the same name, so it works without JavaScript; ``static/js/forms.js``
only adds client-side thumbnails of the chosen files.
"""

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.forms.renderers import TemplatesSetting
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import StagedUpload
from .uploads import MAX_PER_REQUEST, check_image

THUMBNAIL_SALT = "baohe.staging.thumbnail"
STAGED_PER_USER = 4 * MAX_PER_REQUEST


def _salt(purpose: str) -> str:
    return f"baohe.staging.{purpose}"


def _max_age() -> int:
    return settings.STAGED_UPLOAD_HOURS * 3600


# --- tokens -------------------------------------------------------------------------------------
def sign(staged: StagedUpload, purpose: str = "photos") -> str:
    """The token a form carries for one staged photo: its owner and id, signed for ``purpose``."""
    return signing.dumps({"u": staged.user_id, "s": staged.pk}, salt=_salt(purpose), compress=False)


def _unsign(token: str, user_id: int | None, salt: str) -> int | None:
    """The staged row's id if ``token`` is authentic, fresh and belongs to ``user_id``."""
    if not user_id or not isinstance(token, str) or len(token) > 300:
        return None
    try:
        payload = signing.loads(token, salt=salt, max_age=_max_age())
    except signing.BadSignature:  # tampered, another purpose's, or expired (SignatureExpired)
        return None
    if not isinstance(payload, dict) or payload.get("u") != user_id or not isinstance(payload.get("s"), int):
        return None
    return payload["s"]


def resolve(user: Any, tokens: Iterable[str], purpose: str = "photos") -> list[StagedUpload]:
    """The user's staged rows the tokens name, in the tokens' order; anything else is ignored."""
    user_id = getattr(user, "pk", None)
    if user_id is None:
        return []
    ids: list[int] = []
    for token in tokens:
        pk = _unsign(token, user_id, _salt(purpose))
        if pk is not None and pk not in ids:
            ids.append(pk)
    if not ids:
        return []
    rows = {row.pk: row for row in StagedUpload.objects.filter(user_id=user_id, pk__in=ids)}
    return [rows[pk] for pk in ids if pk in rows]


def thumbnail_url(staged: StagedUpload) -> str:
    token = signing.dumps({"u": staged.user_id, "s": staged.pk}, salt=THUMBNAIL_SALT, compress=False)
    return reverse("staged_upload", args=[token])


def thumbnail_row(user: Any, token: str) -> StagedUpload | None:
    """The row a thumbnail URL's token names, only for its owner (``None`` otherwise)."""
    pk = _unsign(token, getattr(user, "pk", None), THUMBNAIL_SALT)
    if pk is None:
        return None
    return StagedUpload.objects.filter(user_id=user.pk, pk=pk).first()


# --- staging, consuming, purging ------------------------------------------------------------------
def stage(user: Any, upload: Any) -> StagedUpload:
    """Check one chosen file (``check_image``; raises ``ValidationError``) and keep its cleaned copy.
    A user holds at most ``STAGED_PER_USER`` staged photos: the oldest beyond go at once, so
    failing a form over and over cannot fill the disk."""
    checked = check_image(upload)
    name = os.path.basename(getattr(upload, "name", "") or "")[:200]
    staged = StagedUpload.objects.create(user=user, file=checked.content, name=name, content_type=checked.content_type)
    beyond = list(StagedUpload.objects.filter(user=user).order_by("-pk")[STAGED_PER_USER:])
    if beyond:
        _delete(beyond)
    return staged


def _delete(rows: Sequence[StagedUpload]) -> None:
    storage = StagedUpload._meta.get_field("file").storage
    for row in rows:
        if row.file.name:
            storage.delete(row.file.name)
    StagedUpload.objects.filter(pk__in=[row.pk for row in rows]).delete()


class StagedFile(ContentFile):
    """A staged photo handed to a service like a fresh upload (the service checks it again);
    ``staged_id`` lets :func:`consume` delete the row once the photo is attached."""

    def __init__(self, staged: StagedUpload):
        with staged.file.open("rb") as handle:
            data = handle.read()
        super().__init__(data, name=staged.name or os.path.basename(staged.file.name or ""))
        self.staged_id = staged.pk


def consume(uploads: Sequence[Any]) -> int:
    """Inside the service's transaction, after attaching ``uploads``: delete the staged rows among
    them; their files go after COMMIT (a rollback keeps both)."""
    ids = [upload.staged_id for upload in uploads if isinstance(upload, StagedFile)]
    if not ids:
        return 0
    rows = list(StagedUpload.objects.filter(pk__in=ids))
    names = [row.file.name for row in rows if row.file.name]
    StagedUpload.objects.filter(pk__in=[row.pk for row in rows]).delete()
    storage = StagedUpload._meta.get_field("file").storage

    def remove_files() -> None:
        for name in names:
            storage.delete(name)

    transaction.on_commit(remove_files)
    return len(rows)


def purge(*, now: dt.datetime | None = None) -> int:
    """Delete staged photos older than ``STAGED_UPLOAD_HOURS`` with their files; the number deleted."""
    cutoff = (now or timezone.now()) - dt.timedelta(hours=settings.STAGED_UPLOAD_HOURS)
    total = 0
    while True:
        rows = list(StagedUpload.objects.filter(created_at__lt=cutoff).order_by("pk")[:500])
        if not rows:
            return total
        _delete(rows)
        total += len(rows)


# --- the field, its widget, and the view's one call ------------------------------------------------
@dataclass
class PhotosValue:
    """What the picker posted: new files, staged tokens, and the tokens whose × was ticked."""

    files: list = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    removed: set[str] = field(default_factory=set)

    @property
    def kept_tokens(self) -> list[str]:
        return [token for token in self.tokens if token not in self.removed]


@dataclass(frozen=True)
class Thumbnail:
    token: str
    url: str
    name: str


class PhotosInput(forms.ClearableFileInput):
    """拍照 and 相册: two file inputs of one name (the first with ``capture``), the staged photos
    as thumbnails each with a hidden token and a × checkbox."""

    allow_multiple_selected = True
    template_name = "baohe/widgets/photos.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"accept": "image/*", **(attrs or {})})
        self.thumbnails: list[Thumbnail] = []

    def value_from_datadict(self, data, files, name):
        chosen = [item for item in (files.getlist(name) if files is not None else []) if item]
        tokens = [token for token in data.getlist(f"{name}_staged") if token] if data is not None else []
        removed = set(data.getlist(f"{name}_remove")) if data is not None else set()
        return PhotosValue(files=chosen, tokens=tokens, removed=removed)

    def value_omitted_from_data(self, data, files, name):
        return name not in (files or {}) and f"{name}_staged" not in (data or {})

    def use_required_attribute(self, initial):
        return False

    def render(self, name, value, attrs=None, renderer=None):
        # The template lives with the others (templates/baohe/widgets/), found through TEMPLATES.
        return super().render(name, value, attrs, renderer=TemplatesSetting())

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["thumbnails"] = self.thumbnails
        return context


def _photos_help_text():
    return gettext("最多 %(max)s 张，JPEG、PNG 或 WebP，每张不超过 10 MB。") % {"max": MAX_PER_REQUEST}


photos_help = lazy(_photos_help_text, str)  # translated when shown


class PhotosField(forms.FileField):
    """Up to ``MAX_PER_REQUEST`` photos: the staged ones kept (resolved for ``self.user``, which
    ``baohe.forms.StyledFormMixin`` sets from the form's ``user``) plus the newly chosen files.
    The content check (Pillow, size, pixels) happens in the service, which re-encodes what it keeps."""

    widget = PhotosInput

    def __init__(self, *, purpose: str = "photos", **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("照片"))
        kwargs.setdefault("help_text", photos_help())
        super().__init__(**kwargs)
        self.purpose = purpose
        self.user: Any = None

    def clean(self, data, initial=None):
        if not isinstance(data, PhotosValue):
            data = PhotosValue(files=[item for item in (data if isinstance(data, list | tuple) else [data]) if item])
        staged = resolve(self.user, data.kept_tokens, self.purpose) if self.user is not None else []
        count = len(staged) + len(data.files)
        if count > MAX_PER_REQUEST:
            raise forms.ValidationError(
                _("最多上传 %(max)s 张照片（本次 %(count)s 张）。") % {"max": MAX_PER_REQUEST, "count": count}
            )
        if self.required and not count:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        files = [forms.FileField.clean(self, item, initial) for item in data.files]
        return [StagedFile(row) for row in staged] + files

    def bound_data(self, data, initial):
        return data

    def has_changed(self, initial, data):
        return bool(data and (getattr(data, "files", None) or getattr(data, "kept_tokens", None)))


def keep_photos(form: forms.BaseForm, user: Any, name: str = "photos") -> list[Thumbnail]:
    """The view's one call when ``form`` comes back with an error: stage the photos chosen this
    time that pass the upload pipeline (up to the limit, after the staged ones still kept), and
    make the re-rendered form show them all as thumbnails with their tokens. A chosen file that
    fails the check is named in the field's errors (unless the field already says why)."""
    photos = form.fields.get(name)
    if not isinstance(photos, PhotosField) or not form.is_bound or not getattr(user, "is_authenticated", False):
        return []
    widget = cast(PhotosInput, photos.widget)
    value = widget.value_from_datadict(form.data, form.files, form.add_prefix(name))
    rows = resolve(user, value.kept_tokens, photos.purpose)
    problems: list[str] = []
    for upload in value.files:
        if len(rows) >= MAX_PER_REQUEST:
            break
        try:
            rows.append(stage(user, upload))
        except ValidationError as error:
            problems.extend(error.messages)
    if problems and not form.errors.get(name):
        form.add_error(name, problems)
    widget.thumbnails = [
        Thumbnail(token=sign(row, photos.purpose), url=thumbnail_url(row), name=row.name) for row in rows
    ]
    return widget.thumbnails
