"""A Flask (WSGI) app served through a2wsgi's WSGIMiddleware."""

from __future__ import annotations

from collections.abc import Iterator

from a2wsgi import WSGIMiddleware
from flask import Flask, Response, jsonify, request

flask_app = Flask(__name__)


@flask_app.get("/")
def index() -> Response:
    return jsonify(framework="flask", args=request.args.to_dict(), script_name=request.script_root)


@flask_app.post("/echo")
def echo() -> Response:
    return Response(request.get_data(), mimetype=request.mimetype or "application/octet-stream")


@flask_app.post("/form")
def form() -> Response:
    return jsonify(fields=request.form.to_dict())


@flask_app.get("/stream")
def stream() -> Response:
    def lines() -> Iterator[str]:
        for i in range(5):
            yield f"line {i}\n"

    return Response(lines(), mimetype="text/plain")


@flask_app.get("/redirect")
def redirect_me() -> Response:
    from flask import redirect

    return redirect("/")  # type: ignore[return-value]


app = WSGIMiddleware(flask_app)
