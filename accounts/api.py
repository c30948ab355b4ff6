"""Account endpoints: token, the current user, resident registration."""

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.response import Response
from rest_framework.views import APIView

from . import services
from .serializers import (
    MeSerializer,
    RegisterCodeSerializer,
    RegisterSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)


class TokenApi(APIView):
    """Exchange a username or mobile number and password for an API token."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []

    @extend_schema(request=TokenRequestSerializer, responses=TokenSerializer)
    def post(self, request):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, **data.validated_data)
        if user is None:
            raise AuthenticationFailed(_("手机号/用户名或密码不正确。"))
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class MeApi(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class RegisterCodeApi(APIView):
    """Send a registration code by SMS."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []

    @extend_schema(request=RegisterCodeSerializer, responses={204: None})
    def post(self, request):
        data = RegisterCodeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.phone_code_send(mobile=data.validated_data["mobile"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class RegisterApi(APIView):
    """Register a resident with mobile number, SMS code and password."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []

    @extend_schema(request=RegisterSerializer, responses={201: MeSerializer})
    def post(self, request):
        data = RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.resident_register(**data.validated_data)
        return Response(MeSerializer(user).data, status=status.HTTP_201_CREATED)
