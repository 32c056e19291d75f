# Varnish in front of newsroom: caches public pages for as long as the app's Surrogate-Control
# allows, purged by surrogate key (xkey, from Debian's varnish-modules) by `manage.py run_purger`
# (NEWSROOM_PURGE_BACKEND=varnish, NEWSROOM_VARNISH_URLS=http://127.0.0.1:6081).
# Run: varnishd -a :6081 -f /etc/varnish/newsroom.vcl  (edit the backend and the purgers ACL).
vcl 4.1;

import std;
import xkey;

backend default {
    .host = "127.0.0.1";
    .port = "8000";
}

# Only the app's own hosts may purge.
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (!req.http.xkey-purge) {
            return (synth(400, "Name the surrogate keys in an xkey-purge header"));
        }
        set req.http.n-gone = xkey.purge(req.http.xkey-purge);
        return (synth(200, "Purged " + req.http.n-gone));
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # The admin, votes and shared previews are per person: never cached, cookies kept.
    if (req.url ~ "^/admin/" || req.url ~ "^/preview/" || req.url ~ "^/explainers/[^/]+/feedback/") {
        return (pass);
    }
    # Every other page is the same for every reader and reads no cookie: drop them so the
    # page can be cached (a request with a cookie would be passed by the built-in VCL).
    unset req.http.Cookie;
    unset req.http.Authorization;
    return (hash);
}

sub vcl_backend_response {
    if (bereq.url ~ "^/static/") {
        # Hashed static files: their own Cache-Control (a year) holds.
        return (deliver);
    }
    if (beresp.http.Surrogate-Control ~ "max-age=[0-9]+" && !beresp.http.Set-Cookie) {
        # The app says how long a CDN may keep the page: never past its next scheduled change.
        set beresp.ttl = std.duration(
            regsub(beresp.http.Surrogate-Control, ".*max-age=([0-9]+).*", "\1") + "s", 0s);
        set beresp.grace = 0s;
        set beresp.http.xkey = beresp.http.Surrogate-Key;
        unset beresp.http.Surrogate-Control;
        return (deliver);
    }
    # Anything the app did not mark for a CDN (404s, forms, the admin) is not kept.
    set beresp.ttl = 0s;
    set beresp.uncacheable = true;
    return (deliver);
}

sub vcl_deliver {
    unset resp.http.xkey;
    unset resp.http.CDN-Cache-Control;
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
