"""The portal's URLs plus ``/bench/ping/``: the trivial JSON view the benchmark compares the staff
queue API with. It sits behind the same authentication and permission as the API (DRF's default
classes: the hashed token, then the verified session; signed in), and answers ``{"ok": true}``."""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from baohe.urls import urlpatterns as portal


class Ping(APIView):
    def get(self, request):
        return Response({"ok": True})


urlpatterns = [*portal, path("bench/ping/", Ping.as_view(), name="bench_ping")]
