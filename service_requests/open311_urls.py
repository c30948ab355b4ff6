"""Open311 GeoReport v2: /open311/v2/<endpoint>.<json|xml> (see ``service_requests.open311``)."""

from django.urls import re_path

from . import open311

app_name = "open311"
urlpatterns = [
    re_path(r"^discovery\.(?P<fmt>\w+)$", open311.discovery, name="discovery"),
    re_path(r"^services\.(?P<fmt>\w+)$", open311.service_list, name="services"),
    re_path(r"^services/(?P<code>[-\w]+)\.(?P<fmt>\w+)$", open311.service_definition, name="service"),
    re_path(r"^requests\.(?P<fmt>\w+)$", open311.requests_endpoint, name="requests"),
    re_path(r"^requests/(?P<request_id>[-\w]+)\.(?P<fmt>\w+)$", open311.request_detail, name="request"),
    re_path(r"^tokens/(?P<token>[-\w]+)\.(?P<fmt>\w+)$", open311.token_detail, name="token"),
]
