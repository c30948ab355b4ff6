"""The one API router. Each app's ``api.py`` registers its viewsets here; the modules are
discovered like ``admin.py`` so this floor imports no app above it."""

from django.utils.module_loading import autodiscover_modules
from rest_framework.routers import DefaultRouter

router = DefaultRouter()
autodiscover_modules("api")
