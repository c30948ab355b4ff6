"""The files in deploy/ agree with the portal's rules (fast checks; the stack test runs them)."""

import re
import runpy

from django.conf import settings

from baohe import uploads
from tests.test_deploy_check import manage
from tests.test_deploy_check import production_profile as documented_profile

from .test_nginx_stack import DEPLOY, deploy_env

MIB = 1024 * 1024


def test_nginx_lets_the_largest_legal_request_through_so_the_portal_decides():
    site = (DEPLOY / "nginx" / "baohe.conf").read_text()
    (limit,) = re.findall(r"^\s*client_max_body_size (\d+)m;", site, re.MULTILINE)
    largest_legal = uploads.MAX_PER_REQUEST * uploads.MAX_BYTES + MIB  # six photos and the form
    assert largest_legal <= int(limit) * MIB <= largest_legal + 16 * MIB
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in site
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
    assert "proxy_set_header X-Request-ID $request_id;" in site
    assert "listen 443 ssl http2;" in site
    assert "/var/lib/baohe/media" not in site  # photos are served by the portal's checked views only


def test_one_beat_a_worker_template_and_a_socket_activated_web_server():
    units = {path.name: path.read_text() for path in (DEPLOY / "systemd").iterdir()}
    assert sorted(units) == ["baohe-beat.service", "baohe-web.service", "baohe-web.socket", "baohe-worker@.service"]
    assert [name for name, text in units.items() if " beat " in text.split("ExecStart=")[-1].split("\n")[0]] == [
        "baohe-beat.service"
    ]
    assert "--hostname=%i@%H" in units["baohe-worker@.service"]
    assert "ListenStream=/run/baohe/gunicorn.sock" in units["baohe-web.socket"]
    assert "unix:/run/baohe/gunicorn.sock" in (DEPLOY / "nginx" / "baohe.conf").read_text()
    assert "Environment=PROMETHEUS_MULTIPROC_DIR=/run/baohe-web" in units["baohe-web.service"]
    for text in units.values():
        if "[Service]" in text:
            assert "EnvironmentFile=/etc/baohe/baohe.env" in text


def test_gunicorn_workers_follow_the_cpu_count(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.setattr("multiprocessing.cpu_count", lambda: 4)
    assert runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))["workers"] == 9
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))["workers"] == 3


def test_the_environment_file_is_the_documented_profile_plus_the_stack_and_passes_check_deploy(tmp_path):
    made, documented = deploy_env(), documented_profile()
    assert set(documented) <= set(made)
    assert len(made["SECRET_KEY"]) >= 50 and "<" not in made["SECRET_KEY"]
    assert (made["BEHIND_PROXY"], made["TRUSTED_PROXY_COUNT"], made["LOG_FORMAT"]) == ("true", "1", "json")
    env = {k: re.sub(r"<[^>]*>", "x", v) for k, v in made.items()}
    env.update(VAR_DIR=str(tmp_path / "var"), MEDIA_ROOT=str(tmp_path / "media"), STATIC_ROOT=str(tmp_path / "static"))
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "no issues (0 silenced)" in output, output
    assert settings.BASE_DIR / "deploy" == DEPLOY
