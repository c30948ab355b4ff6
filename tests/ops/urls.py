"""The portal's URLs plus one view that fails, for the 5xx series (``@pytest.mark.urls``)."""

from django.urls import path

from baohe.urls import urlpatterns as portal


def fail(request):
    raise RuntimeError("a bug in a view")


urlpatterns = [*portal, path("ops-test/fail", fail, name="ops_test_fail")]
