//! What stands between the network and the labels:
//!
//! - a token, required when the server listens beyond loopback: sent as
//!   `Authorization: Bearer …` or as a cookie the page gets by opening `/?token=…` once
//!   (the token then leaves the address bar);
//! - on loopback, a `Host` check, so a web page on another origin cannot reach the server
//!   through DNS rebinding, and an `Origin` check on writes;
//! - headers on every response: a content security policy allowing only the server's own
//!   script and style (no inline code, no other origin), no sniffing, no framing, no
//!   caching, no referrer.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{LabelError, LabelResult};

pub const COOKIE: &str = "mote_label_token";
pub const MIN_TOKEN_LEN: usize = 16;

pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

/// A token that can travel in a URL and a cookie unchanged, and is not trivially guessed.
pub fn check_token(token: &str) -> LabelResult<()> {
    let ok = token.len() >= MIN_TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(LabelError::Config(format!(
            "--token must be at least {MIN_TOKEN_LEN} characters of A–Z, a–z, 0–9, `-`, `_`, \
             `.`, `~` (e.g. `openssl rand -hex 16`)"
        )))
    }
}

/// Equal strings, in a time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub struct Guard {
    pub token: Option<String>,
    /// `Host` values accepted; `None` accepts any (the token protects the server).
    pub hosts: Option<Vec<String>>,
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    (status, text).into_response()
}

fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v)
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

fn query_token(query: &str) -> Option<&str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "token")
        .map(|(_, v)| v)
}

impl Guard {
    fn host_ok(&self, headers: &HeaderMap) -> bool {
        let Some(hosts) = &self.hosts else {
            return true;
        };
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        host.is_some_and(|h| hosts.iter().any(|a| a.eq_ignore_ascii_case(h)))
    }

    /// A write from another origin: browsers send `Origin` on cross-origin requests.
    fn foreign_origin(&self, req: &Request) -> bool {
        if matches!(*req.method(), Method::GET | Method::HEAD) {
            return false;
        }
        let Some(origin) = req.headers().get(header::ORIGIN) else {
            return false;
        };
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok());
        let want = host.map(|h| format!("http://{h}"));
        origin.to_str().ok() != want.as_deref()
    }
}

/// The middleware: host, origin and token checks.
pub async fn check(State(guard): State<Arc<Guard>>, req: Request, next: Next) -> Response {
    if !guard.host_ok(req.headers()) {
        return plain(StatusCode::MISDIRECTED_REQUEST, "unexpected Host header\n");
    }
    if guard.foreign_origin(&req) {
        return plain(StatusCode::FORBIDDEN, "cross-origin request refused\n");
    }
    let Some(token) = guard.token.as_deref() else {
        return next.run(req).await;
    };
    if let Some(given) = req.uri().query().and_then(query_token) {
        if !same(given.as_bytes(), token.as_bytes()) {
            return plain(StatusCode::UNAUTHORIZED, "wrong token\n");
        }
        // Trade the token in the address for a cookie, then show the page without it.
        let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
        return Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, req.uri().path())
            .header(header::SET_COOKIE, cookie)
            .body(Body::empty())
            .expect("valid response");
    }
    let given = bearer_token(req.headers()).or_else(|| cookie_token(req.headers()));
    if given.is_some_and(|g| same(g.as_bytes(), token.as_bytes())) {
        next.run(req).await
    } else {
        plain(
            StatusCode::UNAUTHORIZED,
            "a token is required: open the address `mote label` printed (with ?token=…)\n",
        )
    }
}

/// The middleware adding the security headers to every response.
pub async fn headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_cookies() {
        assert!(check_token("0123456789abcdef").is_ok());
        assert!(check_token("short").is_err());
        assert!(check_token("0123456789abcdef;x=1").is_err());
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; mote_label_token=xyz; b=2"),
        );
        assert_eq!(cookie_token(&h), Some("xyz"));
        assert_eq!(query_token("a=1&token=t"), Some("t"));
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"ab", b"abc"));
    }
}
