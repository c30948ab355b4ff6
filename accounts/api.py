"""Account endpoints: token, the current user, resident registration."""

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.response import Response
from rest_framework.views import APIView

from baohe.client_ip import client_ip
from baohe.throttling import ScopedThrottle

from . import services
from .lockout_views import lockout_response
from .serializers import (
    MeSerializer,
    RegisterCodeSerializer,
    RegisterSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)


class TokenApi(APIView):
    """Exchange a username or mobile number and password for an API token.

    Throttled per client IP (scope ``auth``); failures count towards the login lockout (axes sees
    the ``authenticate`` call with its request), and a locked pair answers 429 ``locked_out``.
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
        user = authenticate(request=request, **credentials)
        if getattr(request, "axes_locked_out", False):
            return lockout_response(request, None, credentials)
        if user is None:
            raise AuthenticationFailed(_("手机号/用户名或密码不正确。"))
        # AXES_RESET_ON_SUCCESS, as a page login does through the user_logged_in signal.
        AxesProxyHandler.reset_attempts(username=user.get_username(), ip_address=client_ip(request))
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


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
