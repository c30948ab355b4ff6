"""Sign-in pages: login (password, then the second factor for staff), logout, password change,
resident self-registration, "my devices" and the second-factor reset for secretaries and admins."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from baohe.client_ip import client_ip
from baohe.exceptions import RateLimited
from baohe.forms import add_service_errors
from baohe.masking import mask_mobile
from baohe.throttling import throttle_wait, throttled_message
from baohe.views import PagedListView

from . import elder, services, sessions, tokens, two_factor
from .forms import ElderModeForm, LoginForm, OtpCodeForm, OtpEnrolForm, RegisterForm, StyledPasswordChangeForm

NEW_BACKUP_CODES = "_new_backup_codes"  # session key: codes shown once, then forgotten


def _next_url(request):
    """The ``next`` the second-factor pages pass along, if it is ours; else home."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("home")


def _second_step(user, next_url):
    step = "accounts:two_factor_verify" if two_factor.has_second_factor(user) else "accounts:two_factor_setup"
    return redirect_to_login(next_url, reverse(step))


class LoginView(auth_views.LoginView):
    """The password step; staff then go to the code page (or enrol on their first sign-in)."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        # 长辈版 chosen on this device (the login page's switch) is the newest choice: the account takes it.
        device = elder.device_choice(self.request)
        if device is not None:
            services.user_elder_mode_set(user=form.get_user(), on=device)
        response = super().form_valid(form)
        if two_factor.needs_second_factor(form.get_user()):
            return _second_step(form.get_user(), self.get_success_url())
        return response


class LogoutView(auth_views.LogoutView):
    pass


@require_POST
def elder_mode_switch(request):
    """The 长辈版 switch: remembered on the account (when signed in) and on this device (cookie).

    Anyone may use it (the login page has it); the answer goes back to ``next`` when that is ours.
    """
    form = ElderModeForm(request.POST)
    if not form.is_valid():
        return redirect("home")
    on = form.cleaned_data["on"]
    if request.user.is_authenticated:
        services.user_elder_mode_set(user=request.user, on=on)
    target = form.cleaned_data["next"]
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("home")
    response = redirect(target)
    elder.remember_on_device(response, on)
    return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = StyledPasswordChangeForm
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        messages.success(self.request, _("密码已修改。"))
        return super().form_valid(form)


# Service error keys that a form names differently.
_FORM_FIELD = {"password": "password1"}


def register(request):
    """Resident self-registration: mobile number, SMS code, password.

    Throttled per client IP like the API (scopes ``sms_send`` and ``register``); the SMS caps and
    the answer that never tells whether a number is registered live in the service.
    """
    if request.user.is_authenticated:
        return redirect("home")
    form = RegisterForm(request.POST or None)
    code_sent = False
    sending = request.POST.get("action") == "send_code"
    wait = throttle_wait(request, "sms_send" if sending else "register") if request.method == "POST" else None
    if wait:
        form.is_valid()
        form.add_error(None, throttled_message(wait))
        response = render(request, "accounts/register.html", {"form": form, "code_sent": False}, status=429)
        response["Retry-After"] = str(wait)
        return response
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if sending:
                services.phone_code_send(mobile=data["mobile"], ip_address=client_ip(request))
                code_sent = True
                messages.info(request, _("短信已发送到 %(mobile)s，请查收。") % {"mobile": mask_mobile(data["mobile"])})
            else:
                user = services.resident_register(
                    mobile=data["mobile"], code=data["code"], password=data["password1"], name=data["name"]
                )
                login(request, user, backend="accounts.backends.UsernameOrMobileBackend")
                messages.success(request, _("注册成功，欢迎使用和美社区。"))
                return redirect("home")
        except ValidationError as error:
            add_service_errors(form, error, rename=_FORM_FIELD)
        except RateLimited as limited:
            form.add_error("mobile", limited.message)
            response = render(request, "accounts/register.html", {"form": form, "code_sent": False}, status=429)
            response["Retry-After"] = str(limited.wait)
            return response
    return render(request, "accounts/register.html", {"form": form, "code_sent": code_sent})


# --- the second factor ----------------------------------------------------------------------------
@login_required
def two_factor_verify(request):
    """The second step: a code from the authenticator or a backup code."""
    user = request.user
    if not two_factor.needs_second_factor(user) or two_factor.is_verified(user):
        return redirect(_next_url(request))
    if not two_factor.has_second_factor(user):
        return _second_step(user, _next_url(request))
    form = OtpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = two_factor.verify_code(user=user, code=form.cleaned_data["code"])
        if device is not None:
            two_factor.session_verified(request, device)
            if two_factor.is_backup_device(device):
                left = two_factor.backup_codes_left(user)
                messages.warning(
                    request,
                    _("您用了一个备用码，还剩 %(left)s 个。可在“我的设备”里重新生成。") % {"left": left},
                )
            return redirect(_next_url(request))
        form.add_error("code", _("验证码不正确或已用过，请重试。连续输错后需等待片刻。"))
    context = {"form": form, "next": _next_url(request), "second_step": True}
    return render(request, "accounts/two_factor_verify.html", context)


@never_cache  # the page shows the secret
@login_required
def two_factor_setup(request):
    """Enrol an authenticator on the first sign-in: QR code and secret, then the first code."""
    user = request.user
    if not two_factor.needs_second_factor(user):
        return redirect("home")
    if two_factor.has_second_factor(user):
        if two_factor.is_verified(user):
            return redirect("accounts:devices")
        return _second_step(user, _next_url(request))
    device = two_factor.totp_enrolment_device(user)
    form = OtpEnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor.totp_enrol_confirm(device=device, code=form.cleaned_data["code"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            device.refresh_from_db()
            two_factor.session_verified(request, device)
            request.session[NEW_BACKUP_CODES] = codes
            messages.success(request, _("验证器已绑定。请保存下面的备用码。"))
            return redirect_to_login(_next_url(request), reverse("accounts:backup_codes"))
    secret = two_factor.totp_secret(device)
    context = {
        "form": form,
        "next": _next_url(request),
        "qr_svg": two_factor.totp_qr_svg(device),
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
        "secret": secret,
        "config_url": device.config_url,
        "second_step": True,  # base.html: no menu or inbox before the second factor
    }
    return render(request, "accounts/two_factor_setup.html", context)


@never_cache  # the page shows the codes
@login_required
@require_http_methods(["GET", "POST"])
def backup_codes(request):
    """New backup codes are shown once (after enrolment or regenerating); POST makes new ones."""
    user = request.user
    if not two_factor.needs_second_factor(user) or not two_factor.has_second_factor(user):
        raise Http404
    if request.method == "POST":
        request.session[NEW_BACKUP_CODES] = two_factor.backup_codes_regenerate(user=user)
        messages.success(request, _("已生成新的备用码，旧的备用码已失效。"))
        return redirect("accounts:backup_codes")
    codes = request.session.pop(NEW_BACKUP_CODES, None)
    context = {"codes": codes, "left": two_factor.backup_codes_left(user), "next": _next_url(request)}
    return render(request, "accounts/backup_codes.html", context)


# --- my devices --------------------------------------------------------------------------------------
@login_required
def devices(request):
    """The user's API tokens (revocable one by one), signing out every other device, and for
    staff the state of their second factor."""
    user = request.user
    context = {"tokens": list(tokens.active_tokens(user)), "staff": two_factor.needs_second_factor(user)}
    if context["staff"]:
        context["enrolled"] = two_factor.has_second_factor(user)
        context["backup_left"] = two_factor.backup_codes_left(user)
    return render(request, "accounts/devices.html", context)


@login_required
@require_POST
def token_revoke(request, pk):
    tokens.token_revoke(user=request.user, token_id=pk, request=request)
    messages.success(request, _("该设备的令牌已注销。"))
    return redirect("accounts:devices")


@login_required
@require_POST
def sign_out_others(request):
    tokens.user_sign_out_everywhere(user=request.user, by=request.user, request=request, keep_session=True)
    messages.success(request, _("其他设备上的登录和全部 API 令牌都已结束；本设备保持登录。"))
    return redirect("accounts:devices")


@login_required
@require_http_methods(["GET", "POST"])
def session_keepalive(request):
    """For the idle warning (static/js/session.js): GET tells the seconds left, POST also counts as
    activity ("继续使用")."""
    if request.method == "POST":
        sessions.session_touch(request, request.user, force=True)
    return JsonResponse({"idle_seconds_left": sessions.idle_seconds_left(request, request.user)})


# --- "lost my phone": reset by the secretary or an administrator -----------------------------------
class TwoFactorResetListView(PagedListView):
    """The accounts whose second factor the signed-in secretary or administrator may reset."""

    template_name = "accounts/two_factor_reset_list.html"
    context_object_name = "people"
    paginate_by = 50

    def get_queryset(self):
        if not two_factor.may_reset(self.request.user):
            raise Http404
        queryset = two_factor.resettable_users(self.request.user)
        return two_factor.with_enrolment(queryset).order_by("username")


two_factor_reset_list = login_required(TwoFactorResetListView.as_view())


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_reset(request, pk):
    """Confirm (GET) and reset (POST) one user's second factor; 404 outside one's scope."""
    person = two_factor.access_user_for_reset(request.user, pk)
    if request.method == "POST":
        two_factor.second_factor_reset(user=person, by=request.user, request=request)
        messages.success(
            request,
            _("已重置 %(name)s 的双因素验证并结束其所有登录；对方下次登录时重新绑定验证器。") % {"name": person},
        )
        return redirect("accounts:two_factor_reset_list")
    return render(request, "accounts/two_factor_reset.html", {"person": person})


@login_required
def chrome(request):
    """The user's part of the navigation bar (inbox with its unread count, the menu) and the
    staff sidebar, as an htmx fragment for a page served from the cache (``baohe.pagecache``).

    The page's own address comes in htmx's ``HX-Current-URL`` header: the menu's forms return
    there and the sidebar marks its section; anything not on this site counts as the home page.
    """
    current = request.headers.get("HX-Current-URL", "")
    parts = urlsplit(current)
    path = "/"
    if current and url_has_allowed_host_and_scheme(current, allowed_hosts={request.get_host()}):
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        match = resolve(parts.path or "/")
    except Resolver404:
        match = None
    return render(request, "includes/user_chrome_fragment.html", {"next_path": path, "nav_match": match})
