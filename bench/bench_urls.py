"""The project's URLs plus `/bench/bare/`, the baseline of bench_post.py:
the plainest Django JSON endpoint (no auth, no DRF, no database) behind the
project's full middleware stack."""

import json

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cvx_site.urls import urlpatterns as project_urlpatterns


@csrf_exempt
@require_POST
def bare(request):
    """Parse the JSON body and send it back: the work every JSON POST does."""
    return JsonResponse(json.loads(request.body), status=201)


urlpatterns = [path("bench/bare/", bare, name="bench-bare"), *project_urlpatterns]
