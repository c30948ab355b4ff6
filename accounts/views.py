"""Sign-in pages: login, logout, password change and resident self-registration."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _

from baohe.forms import add_service_errors

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
    """Resident self-registration: mobile number, SMS code, password."""
    if request.user.is_authenticated:
        return redirect("home")
    form = RegisterForm(request.POST or None)
    code_sent = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if request.POST.get("action") == "send_code":
                services.phone_code_send(mobile=data["mobile"])
                code_sent = True
                messages.info(request, _("验证码已发送到 %(mobile)s。") % {"mobile": data["mobile"]})
            else:
                user = services.resident_register(
                    mobile=data["mobile"], code=data["code"], password=data["password1"], name=data["name"]
                )
                login(request, user, backend="accounts.backends.UsernameOrMobileBackend")
                messages.success(request, _("注册成功，欢迎使用和美社区。"))
                return redirect("home")
        except ValidationError as error:
            add_service_errors(form, error, rename=_FORM_FIELD)
    return render(request, "accounts/register.html", {"form": form, "code_sent": code_sent})
