"""URLs of the test Django site: the admin, a JSON view and a streamed response."""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib import admin
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.urls import path


def info(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "path": request.path,
            "path_info": request.path_info,
            "script_name": request.META.get("SCRIPT_NAME", ""),
            "method": request.method,
            "query": request.GET.dict(),
            "uri": request.build_absolute_uri(),
        }
    )


def stream(request: HttpRequest) -> StreamingHttpResponse:
    def lines() -> Iterator[bytes]:
        for i in range(5):
            yield f"line {i}\n".encode()

    return StreamingHttpResponse(lines(), content_type="text/plain")


urlpatterns = [
    path("admin/", admin.site.urls),
    path("info/", info),
    path("stream/", stream),
]
