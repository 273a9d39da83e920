"""Security headers on every response; only the embed widget may be framed, and the pages of
the emailed links send no Referer."""

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
FRAMEABLE_ENDPOINTS = {"petitions.embed", "signing.embed_sign", "petitions.embed_thanks"}
# The pages of the emailed links, whose address holds the signer's token: a link followed from
# one of them must not send that address on as Referer (to another site, or to an access log).
EMAILED_LINK_ENDPOINTS = {
    "signing.confirm",
    "signing.confirm_post",
    "signing.withdraw",
    "signing.withdraw_post",
    "updates.unsubscribe",
    "updates.unsubscribe_post",
}


def init_app(app):
    common = {
        "X-Content-Type-Options": "nosniff",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if app.config["PETITION_ENV"] == "production":
        common["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    # Built once: every response gets one of these three sets. No view sets any of them, so
    # they are appended, not looked for and replaced (a test checks that each comes once).
    referrer = ("Referrer-Policy", "strict-origin-when-cross-origin")
    framed = [
        ("Content-Security-Policy", f"{CONTENT_SECURITY_POLICY}; frame-ancestors *"),
        referrer,
        *common.items(),
    ]
    not_framed = [
        ("Content-Security-Policy", f"{CONTENT_SECURITY_POLICY}; frame-ancestors 'none'"),
        ("X-Frame-Options", "DENY"),
        *common.items(),
    ]
    unframed = [*not_framed, referrer]
    emailed_link = [*not_framed, ("Referrer-Policy", "no-referrer")]

    @app.after_request
    def set_security_headers(response):
        endpoint = request.endpoint
        if endpoint in FRAMEABLE_ENDPOINTS:
            response.headers.extend(framed)
        elif endpoint in EMAILED_LINK_ENDPOINTS:
            response.headers.extend(emailed_link)
        else:
            response.headers.extend(unframed)
        return response
