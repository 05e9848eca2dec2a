"""The review web app: a Flask app over a :class:`ReviewStore`.

Security: binds to localhost unless told otherwise; the page is static and puts every text in
the DOM as text (never as HTML), under a Content-Security-Policy without inline scripts; files
are served only from inside the run folders; write requests must be JSON from the app's own
origin (``Origin`` / ``Sec-Fetch-Site``), with a Host header naming this server.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, abort, jsonify, request, send_from_directory
from werkzeug.exceptions import HTTPException
from werkzeug.security import safe_join

from ..errors import MemoOcrError
from .lines import NotFound, ReviewError
from .store import ReviewStore

STATIC = Path(__file__).with_name("static")
MAX_REQUEST = 64 * 1024  # bytes: a correction is one line of at most 2,000 characters
CSP = ("default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def create_app(store: ReviewStore, *, user: str = "") -> Flask:
    """The app; ``serve`` sets REVIEW_HOSTS / REVIEW_PORT, the Host values it accepts (DNS rebinding)."""
    app = Flask("memo-ocr-review", static_folder=str(STATIC), static_url_path="/static")
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST  # larger bodies get 413 without being read
    app.config["JSON_AS_ASCII"] = False
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    def allowed_host(host: str) -> bool:
        port = app.config.get("REVIEW_PORT")
        if port is None:
            return True
        name, sep, p = host.rpartition(":")
        return bool(sep) and p == str(port) and name in app.config["REVIEW_HOSTS"]

    @app.before_request
    def guard():
        if not allowed_host(request.host):
            abort(403, "unexpected Host header")
        if request.method not in ("GET", "HEAD"):
            origin = request.headers.get("Origin")
            if origin is not None and origin.rstrip("/") != request.host_url.rstrip("/"):
                abort(403, "cross-origin write refused")
            site = request.headers.get("Sec-Fetch-Site")
            if site is not None and site not in ("same-origin", "none"):
                abort(403, "cross-site write refused")
            if not request.is_json:
                abort(415, "send JSON")

    @app.after_request
    def headers(resp: Response) -> Response:
        resp.headers["Content-Security-Policy"] = CSP
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        if request.path.startswith("/api/"):
            resp.headers["Cache-Control"] = "no-store"
        return resp

    @app.errorhandler(ReviewError)
    def review_error(e: ReviewError):
        return jsonify(error=str(e)), 404 if isinstance(e, NotFound) else 400

    @app.errorhandler(MemoOcrError)
    def memo_error(e: MemoOcrError):
        return jsonify(error=str(e)), 422

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        return jsonify(error=e.description or e.name), e.code

    def args(*names: str) -> list[str]:
        return [request.args.get(n, "") for n in names]

    @app.get("/")
    def index():
        return send_from_directory(STATIC, "index.html")

    @app.get("/favicon.ico")
    def favicon():
        return Response(status=204)

    @app.get("/api/pages")
    def pages():
        return jsonify(user=user, reels=sorted(store.runs), pages=store.pages())

    @app.get("/api/queue")
    def queue():
        reel, page, kind, status = args("reel", "page", "kind", "status")
        items = store.queue(reel=reel, page=page, kind=kind, status=status or "todo")
        return jsonify(count=len(items), items=[it.to_json() for it in items[:1000]])

    @app.get("/api/line")
    def line():
        reel, page, ln = args("reel", "page", "line")
        item = store.item(reel, page, ln)
        return jsonify(item=item.to_json(), history=store.history(reel, page, ln))

    @app.get("/api/crop")
    def crop():
        reel, page, ln, context = args("reel", "page", "line", "context")
        data = store.crop(reel, page, ln, context=context == "1")
        return Response(data, mimetype="image/jpeg", headers={"Cache-Control": "private, max-age=300"})

    @app.post("/api/save")
    def save():
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            abort(400, "the body is not a JSON object")
        base = body.get("base_rev")
        if base is not None and (isinstance(base, bool) or not isinstance(base, int)):
            abort(400, "base_rev must be an integer")
        missing = [k for k in ("reel", "page", "line") if k not in body]
        if missing:
            abort(400, f"missing field {missing[0]!r}")
        res = store.save(str(body["reel"]), str(body["page"]), str(body["line"]), body.get("text", ""),
                         status=str(body.get("status", "corrected")), who=user, base_rev=base)
        return jsonify(res)

    @app.get("/files/<reel>/<path:name>")
    def files(reel: str, name: str):
        run = store.runs.get(reel)
        if run is None:
            abort(404, "no such reel")
        if "\x00" in name:
            abort(404, "no such file")
        path = safe_join(str(run.resolve()), name)
        if path is None or not Path(path).resolve().is_relative_to(run.resolve()):
            abort(404, "outside the run folder")
        if not Path(path).is_file():
            abort(404, "no such file")
        return send_from_directory(run.resolve(), name)

    return app


def serve(store: ReviewStore, host: str, port: int, user: str) -> None:
    import logging
    import socket

    import click
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request

    app = create_app(store, user=user)
    # bind here: werkzeug prints its own multi-line message and exits when the port is taken
    sock = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.set_inheritable(True)
    srv = make_server(host, port, app, threaded=True, fd=sock.fileno())
    app.config["REVIEW_PORT"] = srv.port
    app.config["REVIEW_HOSTS"] = {"localhost", "127.0.0.1", "[::1]", host, f"[{host}]"}

    click.echo(f"memo-ocr review: http://{host}:{srv.port}/ ({len(store.runs)} reel(s), "
               f"{len(store.pages())} pages; Ctrl+C stops)", err=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
