"""Hostile uploads are refused with a clear message and leave nothing behind; good ones are cleaned."""

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from baohe.uploads import check_image
from service_requests.models import Attachment, RequestEvent, ServiceRequest
from service_requests.services import request_accept, request_resolve, request_submit
from tests.factories import CategoryFactory

MB = 1024 * 1024
NOT_AN_IMAGE = "{name} 不是可识别的照片，只接受 JPEG、PNG 或 WebP 图片。"
TOO_MANY_PIXELS = "照片 {name} 像素过大（可能是恶意构造的图片），已拒绝。"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploads land in a fresh MEDIA_ROOT so the test can see every file written."""
    settings.MEDIA_ROOT = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return tmp_path


def stored_files(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


# --- files -----------------------------------------------------------------------------------
def image_bytes(fmt="PNG", size=(40, 30), color="red", **options):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt, **options)
    return buffer.getvalue()


def png(name="photo.png", **kwargs):
    return SimpleUploadedFile(name, image_bytes("PNG", **kwargs), content_type="image/png")


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width, height):
    """A real 1-bit PNG of ``width`` × ``height`` zero pixels, built row by row: tiny on disk, huge decoded."""
    row = b"\0" * (1 + (width + 7) // 8)  # filter byte + packed pixels
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def hostile(case):
    """(upload, the message it must be refused with)."""
    if case == "30mb":
        upload = SimpleUploadedFile("huge.jpg", b"\xff\xd8\xff\xe0" + b"\0" * (30 * MB), content_type="image/jpeg")
        return upload, "照片 huge.jpg 超过 10 MB，请压缩后再上传。"
    if case == "text-as-jpg":
        upload = SimpleUploadedFile("notes.jpg", "这不是照片，只是一段文字。\n".encode(), content_type="image/jpeg")
        return upload, NOT_AN_IMAGE.format(name="notes.jpg")
    if case == "svg":
        svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'
        return SimpleUploadedFile("logo.svg", svg, content_type="image/svg+xml"), NOT_AN_IMAGE.format(name="logo.svg")
    if case == "svg-named-png":
        svg = b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="10" height="10"/></svg>'
        return SimpleUploadedFile("x.png", svg, content_type="image/png"), NOT_AN_IMAGE.format(name="x.png")
    if case == "gif":
        upload = SimpleUploadedFile("anim.gif", image_bytes("GIF"), content_type="image/gif")
        return upload, NOT_AN_IMAGE.format(name="anim.gif")
    if case == "truncated-png":
        data = image_bytes("PNG", size=(400, 300))
        upload = SimpleUploadedFile("cut.png", data[: len(data) // 2], content_type="image/png")
        return upload, NOT_AN_IMAGE.format(name="cut.png")
    if case == "bomb-400-megapixels":
        upload = SimpleUploadedFile("bomb.png", bomb_png(20_000, 20_000), content_type="image/png")
        assert upload.size < 200_000  # small on the wire
        return upload, TOO_MANY_PIXELS.format(name="bomb.png")
    if case == "bomb-48-megapixels":
        # Below Pillow's own limit, above ours.
        upload = SimpleUploadedFile("wide.png", bomb_png(8_000, 6_000), content_type="image/png")
        return upload, TOO_MANY_PIXELS.format(name="wide.png")
    raise AssertionError(case)


HOSTILE = [
    "30mb",
    "text-as-jpg",
    "svg",
    "svg-named-png",
    "gif",
    "truncated-png",
    "bomb-400-megapixels",
    "bomb-48-megapixels",
]


@pytest.fixture
def submit(resident, district):
    category = CategoryFactory(name="垃圾清运")
    household = district.a1.households[0]

    def submit(photos):
        return request_submit(
            by=resident,
            category=category,
            description="楼下垃圾桶满了三天没人清运。",
            compound=district.a1.compound,
            building=household.building,
            household=household,
            photos=photos,
        )

    return submit


def assert_nothing_stored(root):
    assert not ServiceRequest.objects.exists()
    assert not RequestEvent.objects.exists()
    assert not Attachment.objects.exists()
    assert stored_files(root) == []


# --- refused ---------------------------------------------------------------------------------
@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_upload_is_refused_and_nothing_is_stored(submit, media, case):
    upload, message = hostile(case)
    with pytest.raises(ValidationError) as caught:
        submit([upload])
    assert caught.value.messages == [message]
    assert_nothing_stored(media)


def test_one_bad_photo_refuses_the_whole_batch(submit, media):
    upload, message = hostile("text-as-jpg")
    with pytest.raises(ValidationError) as caught:
        submit([png("ok1.png"), upload, png("ok2.png")])
    assert caught.value.messages == [message]
    assert_nothing_stored(media)


def test_a_seventh_photo_is_refused_at_submission(submit, media):
    photos = [png(f"p{i}.png", color=(i * 30, 0, 0)) for i in range(7)]
    with pytest.raises(ValidationError) as caught:
        submit(photos)
    assert caught.value.messages == ["每条诉求最多 6 张照片（已有 0 张，本次 7 张）。"]
    assert_nothing_stored(media)


def test_a_seventh_photo_is_refused_at_resolution(submit, media, staff_a):
    request = submit([png(f"p{i}.png", color=(i * 30, 0, 0)) for i in range(6)])
    assert Attachment.objects.filter(request=request).count() == 6
    files = stored_files(media)
    assert len(files) == 6
    request = request_accept(request=request, by=staff_a)
    events = RequestEvent.objects.count()

    with pytest.raises(ValidationError) as caught:
        request_resolve(request=request, by=staff_a, message="已清运", photos=[png("after.png")])
    assert caught.value.messages == ["每条诉求最多 6 张照片（已有 6 张，本次 1 张）。"]
    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.ACCEPTED
    assert request.resolved_at is None
    assert RequestEvent.objects.count() == events
    assert Attachment.objects.count() == 6
    assert stored_files(media) == files


def test_a_hostile_photo_at_resolution_changes_nothing(submit, media, staff_a):
    request = request_accept(request=submit([]), by=staff_a)
    upload, message = hostile("svg")
    with pytest.raises(ValidationError) as caught:
        request_resolve(request=request, by=staff_a, message="已清运", photos=[upload])
    assert caught.value.messages == [message]
    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.ACCEPTED
    assert not Attachment.objects.exists()
    assert stored_files(media) == []


# --- accepted, and cleaned -------------------------------------------------------------------
def test_html_png_polyglot_keeps_only_its_pixels(submit, media):
    data = image_bytes("PNG", size=(40, 30)) + b"<html><script>alert(1)</script></html>"
    request = submit([SimpleUploadedFile("poly.png", data, content_type="image/png")])
    attachment = Attachment.objects.get(request=request)
    [path] = stored_files(media)
    assert path == media / attachment.file.name
    stored = path.read_bytes()
    assert b"<script" not in stored
    assert b"<html" not in stored
    assert stored != data
    assert (attachment.content_type, attachment.size, attachment.width, attachment.height) == (
        "image/png",
        len(stored),
        40,
        30,
    )
    assert attachment.file.name.startswith("requests/")
    assert "poly" not in attachment.file.name  # a generated name, not the uploader's
    with Image.open(path) as image:
        assert (image.format, image.size) == ("PNG", (40, 30))
    assert attachment.event.kind == RequestEvent.Kind.SUBMITTED


def test_jpeg_is_stored_without_its_gps_location(submit, media):
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (31.0, 49.0, 0.0), 3: "E", 4: (117.0, 18.0, 0.0)}
    exif[0x010F] = "PhoneMaker"  # camera make
    data = image_bytes("JPEG", size=(64, 48), exif=exif)
    with Image.open(io.BytesIO(data)) as original:
        assert 0x8825 in original.getexif()  # the test file really carries a location

    request = submit([SimpleUploadedFile("IMG_0001.jpg", data, content_type="image/jpeg")])
    attachment = Attachment.objects.get(request=request)
    with Image.open(media / attachment.file.name) as stored:
        assert stored.format == "JPEG"
        assert 0x8825 not in stored.getexif()
        assert dict(stored.getexif()) == {}
        assert "exif" not in stored.info
    assert (attachment.content_type, attachment.width, attachment.height) == ("image/jpeg", 64, 48)


def test_a_rotated_phone_photo_is_stored_upright(submit, media):
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    data = image_bytes("JPEG", size=(64, 48), exif=exif)
    request = submit([SimpleUploadedFile("IMG_0002.jpg", data, content_type="image/jpeg")])
    attachment = Attachment.objects.get(request=request)
    assert (attachment.width, attachment.height) == (48, 64)
    with Image.open(media / attachment.file.name) as stored:
        assert stored.size == (48, 64)
        assert 0x0112 not in stored.getexif()


def test_webp_is_accepted(submit, media):
    upload = SimpleUploadedFile("p.webp", image_bytes("WEBP", size=(20, 10)), content_type="image/webp")
    attachment = Attachment.objects.get(request=submit([upload]))
    assert (attachment.content_type, attachment.width, attachment.height) == ("image/webp", 20, 10)
    assert attachment.file.name.endswith(".webp")


def test_an_upload_already_read_is_checked_from_its_start(db):
    upload = png("again.png")
    first = check_image(upload)
    second = check_image(upload)
    assert (first.width, first.height) == (second.width, second.height) == (40, 30)
