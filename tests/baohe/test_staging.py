"""Photos kept across a form error (``baohe.staging``): staged for the signed-in user, shown again
as thumbnails with signed tokens, attached on resubmit and then deleted; another user's or a
tampered token attaches nothing; the nightly purge deletes what was never resubmitted."""

import io
import re
from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from baohe import staging
from baohe.models import StagedUpload
from baohe.tasks import purge_staged_uploads
from service_requests import services
from service_requests.models import Category, RequestEvent, ServiceRequest
from tests.factories import RoleFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def light(db):
    parent = Category.objects.create(name="公共设施", code="facilities", order=1)
    return Category.objects.create(parent=parent, name="楼道灯", code="light", accept_within_hours=2)


def png(name="photo.png", color=(200, 30, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def staged_files(root):
    return sorted(p for p in (root / "staged").rglob("*") if p.is_file()) if (root / "staged").exists() else []


def tokens_in(response, name="photos"):
    return re.findall(rf'name="{name}_staged" value="([^"]+)"', response.content.decode())


def thumbnails_in(response):
    return re.findall(r'<img src="(/uploads/staged/[^"]+/)"', response.content.decode())


def submit(client, district, light, **data):
    fields = {"category": light.pk, "building": district.a1.buildings[0].pk, "description": "", **data}
    return client.post(reverse("service_requests:submit"), fields)


def second_resident(district):
    record = district.a1.residents[1]
    user = UserFactory(username="resident_a1_b", name=record.name, mobile=record.mobile)
    record.user = user
    record.save(update_fields=["user"])
    RoleFactory(user=user, resident=True, community=district.a1.community)
    return user


def test_a_form_error_keeps_the_photo_and_the_resubmit_files_it(
    client_for, resident, staff_a, district, light, media, django_capture_on_commit_callbacks
):
    client = client_for(resident)
    page = client.get(reverse("service_requests:submit")).content.decode()
    # 拍照 (capture) and 相册: two plain file inputs of one name, so the form works without JS.
    assert page.count('type="file" name="photos"') == 2 and 'capture="environment"' in page
    response = submit(client, district, light, photos=[png("楼道.png")])
    assert response.status_code == 200
    assert 'data-field-error="description"' in response.content.decode()
    [token] = tokens_in(response)
    [thumbnail] = thumbnails_in(response)
    assert 'data-testid="staged-photos"' in response.content.decode()
    [row] = StagedUpload.objects.all()
    assert (row.user, row.name, row.content_type) == (resident, "楼道.png", "image/png")
    assert len(staged_files(media)) == 1
    assert not ServiceRequest.objects.exists()
    # The thumbnail is the owner's only.
    shown = client.get(thumbnail)
    assert shown.status_code == 200 and shown["Content-Type"] == "image/png"
    assert shown["X-Content-Type-Options"] == "nosniff" and "no-cache" in shown["Cache-Control"]
    assert client_for(staff_a).get(thumbnail).status_code == 404
    # Resubmitted with the token and the fix: filed with the photo; the staged row and file are gone.
    with django_capture_on_commit_callbacks(execute=True):
        done = submit(client, district, light, description="楼道灯坏了", photos_staged=[token])
    assert done.status_code == 302
    created = ServiceRequest.objects.get()
    assert created.attachments.count() == 1
    assert not StagedUpload.objects.exists()
    assert staged_files(media) == []


def test_another_users_or_a_tampered_token_attaches_nothing(client_for, resident, district, light):
    response = submit(client_for(resident), district, light, photos=[png()])
    [token] = tokens_in(response)
    [thumbnail] = thumbnails_in(response)
    other = client_for(second_resident(district))
    assert other.get(thumbnail).status_code == 404
    done = submit(other, district, light, description="借用别人的照片", photos_staged=[token])
    assert done.status_code == 302
    assert ServiceRequest.objects.get(description="借用别人的照片").attachments.count() == 0
    owner = client_for(resident)
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    thumbnail_token = thumbnail.split("/")[-2]  # signed for another purpose
    done = submit(owner, district, light, description="篡改的令牌", photos_staged=[tampered, thumbnail_token])
    assert done.status_code == 302
    assert ServiceRequest.objects.get(description="篡改的令牌").attachments.count() == 0
    assert owner.get(thumbnail[:-3] + "xx/").status_code == 404
    assert StagedUpload.objects.count() == 1  # still the owner's, for the nightly purge


def test_the_limit_counts_staged_and_new_photos_and_the_cross_removes_one(client_for, resident, district, light):
    client = client_for(resident)
    response = submit(client, district, light, photos=[png(f"{i}.png") for i in range(6)])
    tokens = tokens_in(response)
    assert len(tokens) == 6
    too_many = submit(client, district, light, description="楼道灯坏了", photos_staged=tokens, photos=[png("7.png")])
    assert too_many.status_code == 200
    assert "最多上传 6 张照片（本次 7 张）" in too_many.content.decode()
    assert len(tokens_in(too_many)) == 6  # still kept, nothing filed
    assert not ServiceRequest.objects.exists()
    done = submit(
        client,
        district,
        light,
        description="楼道灯坏了",
        photos_staged=tokens,
        photos_remove=[tokens[0]],
        photos=[png("7.png")],
    )
    assert done.status_code == 302
    assert ServiceRequest.objects.get().attachments.count() == 6


def test_staff_entry_and_the_resolve_step_keep_their_photos(client_for, staff_a, district, light):
    client = client_for(staff_a)
    entry = {
        "channel": "phone",
        "category": light.pk,
        "compound": district.a1.compound.pk,
        "description": "电梯异响",
        "contact_mobile": "13900001111",
    }
    response = client.post(reverse("service_requests:new"), {**entry, "photos": [png()]})
    assert response.status_code == 200 and 'data-field-error="contact_name"' in response.content.decode()
    [token] = tokens_in(response)
    done = client.post(reverse("service_requests:new"), {**entry, "contact_name": "王阿姨", "photos_staged": token})
    assert done.status_code == 302
    request = ServiceRequest.objects.get()
    assert request.attachments.count() == 1
    services.request_accept(request=request, by=staff_a)
    url = reverse("service_requests:action", args=[request.pk, "resolve"])
    failed = client.post(url, {"resolve-message": "", "resolve-photos": [png("done.png")]})
    assert failed.status_code == 200
    [token] = tokens_in(failed, "resolve-photos")
    resolved = client.post(url, {"resolve-message": "已更换灯泡", "resolve-photos_staged": token})
    assert resolved.status_code == 302
    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.RESOLVED
    event = RequestEvent.objects.get(request=request, kind=RequestEvent.Kind.RESOLVED)
    assert event.attachments.count() == 1
    assert not StagedUpload.objects.exists()


def test_a_bad_file_is_named_and_not_kept(client_for, resident, district, light):
    junk = SimpleUploadedFile("notes.jpg", "不是照片".encode(), content_type="image/jpeg")
    response = submit(client_for(resident), district, light, photos=[png(), junk])
    body = response.content.decode()
    assert "notes.jpg 不是可识别的照片" in body
    assert len(tokens_in(response)) == 1


def test_the_nightly_purge_deletes_staged_photos_older_than_a_day(resident, media):
    old = staging.stage(resident, png("old.png"))
    fresh = staging.stage(resident, png("fresh.png"))
    StagedUpload.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    assert len(staged_files(media)) == 2
    assert purge_staged_uploads.run() == 1
    assert list(StagedUpload.objects.all()) == [fresh]
    assert [p.name for p in staged_files(media)] == [fresh.file.name.rsplit("/", 1)[-1]]
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "baohe.tasks.purge_staged_uploads"]
    assert len(entries) == 1 and entries[0]["schedule"] == crontab(hour=4, minute=30)


def test_a_user_holds_a_bounded_number_of_staged_photos(resident, staff_a, media, monkeypatch):
    monkeypatch.setattr(staging, "STAGED_PER_USER", 2)
    others = staging.stage(staff_a, png("staff.png"))
    first, second, third = (staging.stage(resident, png(f"{i}.png")) for i in range(3))
    assert set(StagedUpload.objects.all()) == {others, second, third}
    assert len(staged_files(media)) == 3
