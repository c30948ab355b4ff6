from django.urls import path

from . import audit_views, lockout_views, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("elder-mode/", views.elder_mode_switch, name="elder_mode"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("register/", views.register, name="register"),
    path("audit/", audit_views.AuditLogView.as_view(), name="audit"),
    path("audit/export/", audit_views.audit_export, name="audit_export"),
    path("lockouts/", lockout_views.lockout_list, name="lockouts"),
    path("lockouts/<int:pk>/unlock/", lockout_views.lockout_unlock, name="lockout_unlock"),
    path("two-factor/", views.two_factor_verify, name="two_factor_verify"),
    path("two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("two-factor/backup-codes/", views.backup_codes, name="backup_codes"),
    path("two-factor/reset/", views.two_factor_reset_list, name="two_factor_reset_list"),
    path("two-factor/reset/<int:pk>/", views.two_factor_reset, name="two_factor_reset"),
    path("devices/", views.devices, name="devices"),
    path("devices/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("devices/sign-out-others/", views.sign_out_others, name="sign_out_others"),
    path("session/keepalive/", views.session_keepalive, name="session_keepalive"),
    path("chrome/", views.chrome, name="chrome"),
]
