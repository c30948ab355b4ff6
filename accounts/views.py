"""Sign-in pages: login, logout, password change and resident self-registration."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _

from baohe.client_ip import client_ip
from baohe.exceptions import RateLimited
from baohe.forms import add_service_errors
from baohe.throttling import throttle_wait, throttled_message

from . import services
from .forms import LoginForm, RegisterForm, StyledPasswordChangeForm


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


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
                messages.info(request, _("短信已发送到 %(mobile)s，请查收。") % {"mobile": data["mobile"]})
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
