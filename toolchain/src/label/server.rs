//! The HTTP side: a fixed set of routes (no file is served by a path from the request),
//! JSON in and out, bodies capped at [`MAX_BODY`], and the page bundled in the binary.
//!
//! ```text
//! GET  /                                   the page (/label.js, /label.css, /favicon.svg)
//! GET  /api/config                         {"default_labeler","labelers","total"}
//! GET  /api/labelers/{name}/next           the labeler's next item and progress (a view)
//! GET  /api/labelers/{name}/items/{id}     one item as the labeler sees it
//! POST /api/labelers/{name}/rankings       {"id","ranking":[best…worst, ties as arrays]}
//! POST /api/labelers/{name}/demos          {"id","completion","corrects"?: answer index}
//! POST /api/labelers/{name}/critiques      {"id","index","critique"}
//! POST /api/labelers/{name}/skips          {"id"}
//! POST /api/labelers/{name}/undo           {} → {"undone": {"seq","kind","id"}, view}
//! ```
//!
//! A view is `{"labeler","progress":{"done","skipped","total"},"item":{…}|null}`. Errors
//! are `{"error": "…"}` with 400 (bad name or JSON), 404 (unknown item), 409 (conflict),
//! 413 (body too large), 415 (not JSON), 422 (a record the readers would reject).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{middleware, Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{LabelError, LabelResult};
use super::guard::{self, Guard};
use super::items::read_items;
use super::labeler::Labeler;
use super::store::Store;
use crate::error::Error;

/// Largest request body accepted.
pub const MAX_BODY: usize = 256 * 1024;

const INDEX_HTML: &str = include_str!("page/index.html");
const LABEL_JS: &str = include_str!("page/label.js");
const LABEL_CSS: &str = include_str!("page/label.css");
const FAVICON: &str = include_str!("page/favicon.svg");

/// What `mote label serve` was asked for.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    pub samples: PathBuf,
    pub out: PathBuf,
    pub bind: SocketAddr,
    pub token: Option<String>,
    /// The name the page proposes.
    pub default_labeler: Option<Labeler>,
}

/// The server, bound and ready.
#[derive(Clone, Debug)]
pub struct Ready {
    pub addr: SocketAddr,
    /// The address to open (with the token, if any).
    pub url: String,
    pub items: usize,
    /// Lines of the samples file repeating an earlier one.
    pub duplicates: usize,
    pub labelers: usize,
}

struct App {
    store: Mutex<Store>,
    default_labeler: Option<Labeler>,
}

type Shared = State<Arc<App>>;

/// An error reply: a status and `{"error": message}`.
struct ApiError(StatusCode, String);

impl From<LabelError> for ApiError {
    fn from(e: LabelError) -> Self {
        let status = match &e {
            LabelError::BadName(_) => StatusCode::BAD_REQUEST,
            LabelError::UnknownItem(_) => StatusCode::NOT_FOUND,
            LabelError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            LabelError::Conflict(_) | LabelError::NothingToUndo => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError(status, e.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        ApiError(r.status(), r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError(StatusCode::BAD_REQUEST, r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

type Reply = Result<Json<Value>, ApiError>;

fn labeler(path: Result<Path<String>, PathRejection>) -> Result<Labeler, ApiError> {
    Ok(Labeler::new(&path?.0)?)
}

impl App {
    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        // A panic while holding the lock leaves the store as consistent as the files it
        // mirrors (every change is written before memory is updated), so keep serving.
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn view_json(store: &mut Store, who: &Labeler, id: Option<&str>) -> LabelResult<Value> {
    Ok(serde_json::to_value(store.view(who, id)?).expect("serializable"))
}

async fn config(State(app): Shared) -> Json<Value> {
    let store = app.store();
    let labelers: Vec<&str> = store.labelers().map(Labeler::as_str).collect();
    Json(json!({
        "default_labeler": app.default_labeler.as_ref().map(Labeler::as_str),
        "labelers": labelers,
        "total": store.items().len(),
    }))
}

async fn next(State(app): Shared, name: Result<Path<String>, PathRejection>) -> Reply {
    let who = labeler(name)?;
    Ok(Json(view_json(&mut app.store(), &who, None)?))
}

async fn item(State(app): Shared, path: Result<Path<(String, String)>, PathRejection>) -> Reply {
    let Path((name, id)) = path?;
    let who = Labeler::new(&name)?;
    Ok(Json(view_json(&mut app.store(), &who, Some(&id))?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RankBody {
    id: String,
    ranking: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoBody {
    id: String,
    completion: String,
    #[serde(default)]
    corrects: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CritiqueBody {
    id: String,
    index: usize,
    critique: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SkipBody {
    id: String,
}

async fn rank(
    State(app): Shared,
    name: Result<Path<String>, PathRejection>,
    body: Result<Json<RankBody>, JsonRejection>,
) -> Reply {
    let who = labeler(name)?;
    let Json(b) = body?;
    let mut store = app.store();
    store.rank(&who, &b.id, &b.ranking)?;
    Ok(Json(view_json(&mut store, &who, None)?))
}

async fn demo(
    State(app): Shared,
    name: Result<Path<String>, PathRejection>,
    body: Result<Json<DemoBody>, JsonRejection>,
) -> Reply {
    let who = labeler(name)?;
    let Json(b) = body?;
    let mut store = app.store();
    store.demo(&who, &b.id, &b.completion, b.corrects)?;
    Ok(Json(view_json(&mut store, &who, Some(&b.id))?))
}

async fn critique(
    State(app): Shared,
    name: Result<Path<String>, PathRejection>,
    body: Result<Json<CritiqueBody>, JsonRejection>,
) -> Reply {
    let who = labeler(name)?;
    let Json(b) = body?;
    let mut store = app.store();
    store.critique(&who, &b.id, b.index, &b.critique)?;
    Ok(Json(view_json(&mut store, &who, Some(&b.id))?))
}

async fn skip(
    State(app): Shared,
    name: Result<Path<String>, PathRejection>,
    body: Result<Json<SkipBody>, JsonRejection>,
) -> Reply {
    let who = labeler(name)?;
    let Json(b) = body?;
    let mut store = app.store();
    store.skip(&who, &b.id)?;
    Ok(Json(view_json(&mut store, &who, None)?))
}

async fn undo(State(app): Shared, name: Result<Path<String>, PathRejection>) -> Reply {
    let who = labeler(name)?;
    let mut store = app.store();
    let undone = store.undo(&who)?;
    // Show the item the undone record was about, so it can be done again.
    let known = store.items().get(&undone.id).is_some();
    let mut v = view_json(&mut store, &who, known.then_some(undone.id.as_str()))?;
    v["undone"] = serde_json::to_value(&undone).expect("serializable");
    Ok(Json(v))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn not_found() -> ApiError {
    ApiError(StatusCode::NOT_FOUND, "no such route".into())
}

fn router(app: Arc<App>, guard: Arc<Guard>) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", INDEX_HTML) }),
        )
        .route(
            "/label.js",
            get(|| async { asset("text/javascript; charset=utf-8", LABEL_JS) }),
        )
        .route(
            "/label.css",
            get(|| async { asset("text/css; charset=utf-8", LABEL_CSS) }),
        )
        .route(
            "/favicon.svg",
            get(|| async { asset("image/svg+xml", FAVICON) }),
        )
        .route("/api/config", get(config))
        .route("/api/labelers/{name}/next", get(next))
        .route("/api/labelers/{name}/items/{id}", get(item))
        .route("/api/labelers/{name}/rankings", post(rank))
        .route("/api/labelers/{name}/demos", post(demo))
        .route("/api/labelers/{name}/critiques", post(critique))
        .route("/api/labelers/{name}/skips", post(skip))
        .route("/api/labelers/{name}/undo", post(undo))
        .fallback(not_found)
        .with_state(app)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(guard, guard::check))
        .layer(middleware::from_fn(guard::headers))
}

/// The `Host` values a browser sends for a loopback address.
fn loopback_hosts(addr: SocketAddr) -> Vec<String> {
    let port = addr.port();
    let mut hosts = vec![
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
    ];
    hosts.push(addr.to_string());
    hosts
}

/// Everything set up before serving.
struct Prepared {
    app: Arc<App>,
    guard: Arc<Guard>,
    listener: std::net::TcpListener,
    ready: Ready,
}

/// Check the options, read the samples, open the store and bind: everything that can
/// fail before serving.
fn prepare(opts: &ServeOptions) -> LabelResult<Prepared> {
    match &opts.token {
        Some(t) => guard::check_token(t)?,
        None if !opts.bind.ip().is_loopback() => {
            return Err(LabelError::Config(format!(
                "{} is not a loopback address: pass --token so only people with it can \
                 label (or bind 127.0.0.1)",
                opts.bind
            )))
        }
        None => {}
    }
    let items = read_items(&opts.samples)?;
    let store = Store::open(items, &opts.out)?;
    let listener =
        std::net::TcpListener::bind(opts.bind).map_err(|e| Error::io(opts.bind.to_string(), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io(opts.bind.to_string(), e))?;
    let shown = if addr.ip().is_unspecified() {
        SocketAddr::new([127, 0, 0, 1].into(), addr.port()).to_string()
    } else {
        addr.to_string()
    };
    let url = match &opts.token {
        Some(t) => format!("http://{shown}/?token={t}"),
        None => format!("http://{shown}/"),
    };
    let ready = Ready {
        addr,
        url,
        items: store.items().len(),
        duplicates: store.items().duplicates,
        labelers: store.labelers().count(),
    };
    let guard = Arc::new(Guard {
        token: opts.token.clone(),
        hosts: addr.ip().is_loopback().then(|| loopback_hosts(addr)),
    });
    let app = Arc::new(App {
        store: Mutex::new(store),
        default_labeler: opts.default_labeler.clone(),
    });
    Ok(Prepared {
        app,
        guard,
        listener,
        ready,
    })
}

/// Serve until Ctrl-C (or SIGTERM). `ready` is called once the socket is bound.
pub fn serve(opts: &ServeOptions, ready: impl FnOnce(&Ready)) -> LabelResult<()> {
    let Prepared {
        app,
        guard,
        listener,
        ready: info,
    } = prepare(opts)?;
    let io = |e: std::io::Error| LabelError::from(Error::io(info.addr.to_string(), e));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(io)?;
    listener.set_nonblocking(true).map_err(io)?;
    ready(&info);
    rt.block_on(async {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        axum::serve(listener, router(app, guard))
            .with_graceful_shutdown(shutdown())
            .await
    })
    .map_err(io)
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
