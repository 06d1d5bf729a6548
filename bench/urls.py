from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def noop(request: HttpRequest) -> HttpResponse:
    """What Django costs with our middleware and nothing else."""
    return HttpResponse(b'{"status": "ok"}', content_type="application/json", status=202)


urlpatterns = [
    path("bench/noop/", noop),
    path("", include("cobot_sevdesk.urls")),
]
