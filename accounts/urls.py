from django.urls import path

from . import lockout_views, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("register/", views.register, name="register"),
    path("lockouts/", lockout_views.lockout_list, name="lockouts"),
    path("lockouts/<int:pk>/unlock/", lockout_views.lockout_unlock, name="lockout_unlock"),
]
