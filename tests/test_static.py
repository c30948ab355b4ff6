"""Static files in production: whitenoise's CompressedManifestStaticFilesStorage (fingerprinted
names, gzip and Brotli copies written at collectstatic) served with a far-future, immutable
Cache-Control; a name without its fingerprint gets the short default."""

import pytest
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

CSS = "body { color: #222; }\n" * 200  # big enough for whitenoise to keep compressed copies


@pytest.fixture
def collected(tmp_path, settings):
    source, root = tmp_path / "static", tmp_path / "collected"
    (source / "css").mkdir(parents=True)
    (source / "css" / "site.css").write_text(CSS)
    settings.DEBUG = False
    settings.STATICFILES_DIRS = [source]
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]  # only this file: fast
    settings.STATIC_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    settings.WHITENOISE_AUTOREFRESH = False
    settings.WHITENOISE_USE_FINDERS = False
    call_command("collectstatic", "--no-input", "-v0")
    from django.contrib.staticfiles.storage import staticfiles_storage

    staticfiles_storage._setup()  # the storage object was built with the settings before the override
    return staticfiles_storage


def test_a_fingerprinted_asset_is_cached_for_a_year_and_compressed(collected):
    url = collected.url("css/site.css")
    assert url.startswith("/static/css/site.") and url != "/static/css/site.css"  # fingerprinted
    client = Client()  # a new handler: whitenoise reads STATIC_ROOT when it starts

    plain = client.get(url)
    assert plain.status_code == 200
    directives = {part.strip().split("=")[0]: part.strip() for part in plain["Cache-Control"].split(",")}
    assert int(directives["max-age"].split("=")[1]) >= 365 * 24 * 3600
    assert "immutable" in directives and "public" in directives
    assert b"".join(plain.streaming_content).decode() == CSS

    brotli = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert brotli["Content-Encoding"] == "br"
    assert int(brotli["Content-Length"]) < len(CSS) // 10
    gzip = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert gzip["Content-Encoding"] == "gzip"

    # The name without its fingerprint may change any time: not cached for long.
    unhashed = client.get("/static/css/site.css")
    assert unhashed.status_code == 200
    assert "immutable" not in unhashed["Cache-Control"]
