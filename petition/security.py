"""Security headers on every response; only the embed widget may be framed."""

from flask import request

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
# The widget and the pages its form leads to, all shown inside another site's <iframe>.
FRAMEABLE_ENDPOINTS = {"petitions.embed", "petitions.embed_sign", "petitions.embed_thanks"}


def init_app(app):
    @app.after_request
    def set_security_headers(response):
        frameable = request.endpoint in FRAMEABLE_ENDPOINTS
        ancestors = "frame-ancestors *" if frameable else "frame-ancestors 'none'"
        response.headers["Content-Security-Policy"] = f"{CONTENT_SECURITY_POLICY}; {ancestors}"
        if not frameable:
            response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if app.config["PETITION_ENV"] == "production":
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        return response
