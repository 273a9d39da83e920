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
    common = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if app.config["PETITION_ENV"] == "production":
        common["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    # Built once: every response gets one of these two sets. No view sets any of them, so they
    # are appended, not looked for and replaced (a test checks that each comes once).
    framed = [("Content-Security-Policy", f"{CONTENT_SECURITY_POLICY}; frame-ancestors *"), *common.items()]
    unframed = [
        ("Content-Security-Policy", f"{CONTENT_SECURITY_POLICY}; frame-ancestors 'none'"),
        ("X-Frame-Options", "DENY"),
        *common.items(),
    ]

    @app.after_request
    def set_security_headers(response):
        response.headers.extend(framed if request.endpoint in FRAMEABLE_ENDPOINTS else unframed)
        return response
