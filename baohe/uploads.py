"""Photo (and PDF) uploads, checked by what they are rather than what they claim to be: a request's
photos, a visit's photo and a supervision inspection's photo all pass through here; a fund
proposal's quotes and receipts may also be PDF (:func:`check_document`, :func:`check_pdf`: told
apart by their first bytes, the PDF refused when it is incomplete or carries script or auto-run
actions, and kept byte for byte under a generated name).

A file is accepted only if Pillow decodes it fully as JPEG, PNG or WebP, it is at most
``MAX_BYTES``, it decodes to at most ``MAX_PIXELS`` (decompression bombs are refused), and a
request carries at most ``MAX_PER_REQUEST`` photos. The stored file is re-encoded from the
decoded pixels, which drops EXIF (location included) and anything appended to the image (an
HTML/PNG polyglot keeps only its pixels), under a generated name.
"""

import io
import uuid
import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_PER_REQUEST = 6
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}


@dataclass
class CheckedImage:
    content: ContentFile
    content_type: str
    size: int
    width: int
    height: int


def check_count(existing, new):
    if existing + new > MAX_PER_REQUEST:
        raise ValidationError(
            _("每条诉求最多 %(max)s 张照片（已有 %(existing)s 张，本次 %(new)s 张）。")
            % {"max": MAX_PER_REQUEST, "existing": existing, "new": new},
            code="too_many_photos",
        )


def check_image(upload) -> CheckedImage:
    """Validate one uploaded file and return its cleaned, re-encoded copy."""
    name = getattr(upload, "name", "") or "?"
    if upload.size is not None and upload.size > MAX_BYTES:
        raise ValidationError(_("照片 %(name)s 超过 10 MB，请压缩后再上传。") % {"name": name}, code="too_large")
    if hasattr(upload, "seek"):
        upload.seek(0)  # a form field may have read it already
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValidationError(_("照片 %(name)s 超过 10 MB，请压缩后再上传。") % {"name": name}, code="too_large")
    not_an_image = ValidationError(
        _("%(name)s 不是可识别的照片，只接受 JPEG、PNG 或 WebP 图片。") % {"name": name}, code="not_an_image"
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in FORMATS:
                    raise not_an_image
                if probe.width * probe.height > MAX_PIXELS:
                    raise ValidationError(
                        _("照片 %(name)s 像素过大（可能是恶意构造的图片），已拒绝。") % {"name": name},
                        code="too_many_pixels",
                    )
                probe.verify()
            with Image.open(io.BytesIO(data)) as opened:
                image_format = opened.format or ""
                if image_format not in FORMATS:
                    raise not_an_image
                opened.load()
                image = ImageOps.exif_transpose(opened)
                if image_format == "JPEG" and image.mode not in ("RGB", "L"):
                    image = image.convert("RGB")
                out = io.BytesIO()
                image.save(out, format=image_format, **({"quality": 88} if image_format == "JPEG" else {}))
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ValidationError(
            _("照片 %(name)s 像素过大（可能是恶意构造的图片），已拒绝。") % {"name": name}, code="too_many_pixels"
        ) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise not_an_image from error
    content_type, extension = FORMATS[image_format]
    cleaned = out.getvalue()
    return CheckedImage(
        content=ContentFile(cleaned, name=f"{uuid.uuid4().hex}.{extension}"),
        content_type=content_type,
        size=len(cleaned),
        width=image.width,
        height=image.height,
    )


def check_images(uploads, existing=0):
    """Check a batch: the count first, then every file; all or nothing."""
    uploads = [u for u in uploads if u]
    check_count(existing, len(uploads))
    checked, errors = [], []
    for upload in uploads:
        try:
            checked.append(check_image(upload))
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError(errors)
    return checked


# --- documents: a photo or a PDF (quotes and receipts) ---------------------------------------------
PDF_CONTENT_TYPE = "application/pdf"


@dataclass
class CheckedFile:
    content: ContentFile
    content_type: str
    size: int


def check_pdf(upload) -> CheckedFile:
    """A PDF checked by what it is: it starts with the ``%PDF-1.x`` header, ends with ``%%EOF``,
    is at most ``MAX_BYTES`` and holds no script or auto-run action (``/JavaScript``, ``/JS``,
    ``/OpenAction``, ``/Launch``, ``/EmbeddedFile``). Kept byte for byte under a generated name."""
    name = getattr(upload, "name", "") or "?"
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValidationError(_("文件 %(name)s 超过 10 MB，请压缩后再上传。") % {"name": name}, code="too_large")
    if not (data[:8].startswith(b"%PDF-1.") or data[:8].startswith(b"%PDF-2.")) or b"%%EOF" not in data[-1024:]:
        raise ValidationError(_("%(name)s 不是完整的 PDF 文件。") % {"name": name}, code="not_a_pdf")
    for marker in (b"/JavaScript", b"/JS", b"/OpenAction", b"/Launch", b"/EmbeddedFile", b"/AA"):
        if marker in data:
            raise ValidationError(
                _("PDF 文件 %(name)s 含有脚本或自动执行的内容，已拒绝。") % {"name": name}, code="active_pdf"
            )
    return CheckedFile(
        content=ContentFile(data, name=f"{uuid.uuid4().hex}.pdf"), content_type=PDF_CONTENT_TYPE, size=len(data)
    )


def check_document(upload) -> CheckedFile:
    """A photo (checked and re-encoded by :func:`check_image`) or a PDF (:func:`check_pdf`),
    told apart by the file's first bytes, never by its name or claimed type."""
    if hasattr(upload, "seek"):
        upload.seek(0)
    head = upload.read(8)
    if hasattr(upload, "seek"):
        upload.seek(0)
    if head.startswith(b"%PDF-"):
        return check_pdf(upload)
    try:
        image = check_image(upload)
    except ValidationError as error:
        if error.code == "not_an_image":
            name = getattr(upload, "name", "") or "?"
            raise ValidationError(
                _("%(name)s 不是可识别的照片或 PDF，只接受 JPEG、PNG、WebP 图片或 PDF 文件。") % {"name": name},
                code="not_a_document",
            ) from error
        raise
    return CheckedFile(content=image.content, content_type=image.content_type, size=image.size)
