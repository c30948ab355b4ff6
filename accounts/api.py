"""Account endpoints: tokens (issue, revoke), the current user, resident registration, and the
audit trail (read-only, ``GET /api/v1/audit/``: the 审计日志 page's readers and filters)."""

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from baohe.client_ip import client_ip
from baohe.query import query_errors, read_params
from baohe.throttling import ScopedThrottle

from . import services, tokens, two_factor
from .audit import signed_in
from .authentication import TokenAuthentication
from .lockout_views import lockout_response
from .selectors import audit_entries_filter, audit_entries_for, audit_readable
from .serializers import (
    AuditEntrySerializer,
    AuditQuerySerializer,
    MeSerializer,
    RegisterCodeSerializer,
    RegisterSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)


def _refused(message, code):
    return AuthenticationFailed({"detail": message, "code": code})


class TokenApi(APIView):
    """Exchange a username or mobile number and password for a new API token for this device.

    Accounts with a second factor (staff, secretaries, officials, admins) also send ``otp``: the
    6-digit code from their authenticator or a backup code; they must have enrolled on the web
    first. The token expires (8 hours for them, 30 days for residents by default) and is
    listed under "我的设备", where it can be revoked.

    Throttled per client IP (scope ``auth``); password failures count towards the login lockout
    (axes sees the ``authenticate`` call with its request), and a locked pair answers 429
    ``locked_out``.
    """

    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedThrottle]
    throttle_scope = "auth"

    @extend_schema(request=TokenRequestSerializer, responses=TokenSerializer)
    def post(self, request):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        credentials = data.validated_data
        user = authenticate(request=request, username=credentials["username"], password=credentials["password"])
        if getattr(request, "axes_locked_out", False):
            return lockout_response(request, None, credentials)
        if user is None:
            raise AuthenticationFailed(_("手机号/用户名或密码不正确。"))
        if two_factor.needs_second_factor(user):
            if not two_factor.has_second_factor(user):
                raise _refused(_("请先在网页上登录并绑定手机验证器，再获取令牌。"), "otp_not_enrolled")
            if not credentials.get("otp"):
                raise _refused(_("请填写验证器上的 6 位验证码（otp）。"), "otp_required")
            if two_factor.verify_code(user=user, code=credentials["otp"]) is None:
                raise _refused(_("验证码不正确或已用过。"), "otp_invalid")
        # AXES_RESET_ON_SUCCESS, as a page login does through the user_logged_in signal.
        AxesProxyHandler.reset_attempts(username=user.get_username(), ip_address=client_ip(request))
        token, key = tokens.token_issue(user=user, name=tokens.device_name(request, credentials.get("device")))
        signed_in(user=user, request=request, channel="api")  # no login(): no user_logged_in signal
        return Response({"token": key, "expiry": token.expiry, "device": token.name})


class TokenLogoutApi(APIView):
    """Revoke the token this request is made with."""

    authentication_classes = [TokenAuthentication]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenLogoutAllApi(APIView):
    """Revoke every token of the signed-in user (all devices), and end their other sessions."""

    authentication_classes = [TokenAuthentication]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        tokens.user_sign_out_everywhere(user=request.user, by=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class RegisterCodeApi(APIView):
    """Send a registration code by SMS (204 whether or not the number is registered)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedThrottle]
    throttle_scope = "sms_send"

    @extend_schema(request=RegisterCodeSerializer, responses={204: None})
    def post(self, request):
        data = RegisterCodeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.phone_code_send(mobile=data.validated_data["mobile"], ip_address=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RegisterApi(APIView):
    """Register a resident with mobile number, SMS code and password."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedThrottle]
    throttle_scope = "register"

    @extend_schema(request=RegisterSerializer, responses={201: MeSerializer})
    def post(self, request):
        data = RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.resident_register(**data.validated_data)
        return Response(MeSerializer(user).data, status=status.HTTP_201_CREATED)


class AuditEntryListApi(generics.ListAPIView):
    """The audit lines the caller may read, newest first: a community secretary their community's,
    a street official their street's, district officials and administrators all; anyone else 403."""

    serializer_class = AuditEntrySerializer
    filter_backends: list = []

    def get_queryset(self):
        if not audit_readable(self.request.user):
            raise PermissionDenied
        params = read_params(self.request, AuditQuerySerializer)
        return audit_entries_filter(audit_entries_for(self.request.user), **params)

    @extend_schema(
        parameters=[AuditQuerySerializer],
        responses={200: AuditEntrySerializer(many=True), 400: query_errors(AuditQuerySerializer)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
