//! `mote label` through its HTTP API and in a real browser: request limits and checks,
//! model text kept as data, crash-safe files, resuming after a restart, statistics, and
//! the labels training a reward model and an SFT model.
//!
//! The browser test drives headless Chromium with playwright-core (`tests/e2e`, installed
//! by `scripts/setup.sh`); it fails when node, the npm packages or Chromium are missing.

mod tiny_cli_model;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;
use tiny_cli_model::tiny_model;

use serde_json::{json, Value};

const MOTE: &str = env!("CARGO_BIN_EXE_mote");
const TOKEN: &str = "0123456789abcdef0123";

/// A running `mote label`; killed (SIGKILL, like a crash) when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    url: String,
}

impl Server {
    fn start(samples: &Path, out: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(MOTE)
            .args(["label", "--in", s(samples), "--out", s(out)])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn mote label");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut seen = String::new();
        let url = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                panic!("mote label did not start:\n{seen}");
            };
            seen.push_str(&line);
            seen.push('\n');
            if let Some(rest) = line.split("open ").nth(1) {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        let host = url.trim_start_matches("http://").split('/').next().unwrap();
        let addr = host.parse().unwrap();
        Server { child, addr, url }
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Reply {
    status: u16,
    headers: HashMap<String, String>,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// One HTTP/1.1 request on a fresh connection; `headers` may override `Host`.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Reply {
    let len = body.map(|b| b.len().to_string());
    let mut all = headers.to_vec();
    if let Some(n) = &len {
        all.push(("Content-Length", n));
    }
    request_raw(addr, method, path, &all, body.unwrap_or_default())
}

/// A request whose body is sent as given (framing headers are the caller's).
fn request_raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    // The server may answer (413) and stop reading before the body is all sent.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP reply");
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let body = if text.contains("transfer-encoding: chunked") {
        unchunk(body)
    } else {
        body.to_string()
    };
    Reply {
        status: status.parse().unwrap(),
        headers,
        body,
    }
}

fn unchunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = &rest[n + 2..];
    }
    out
}

fn get(server: &Server, path: &str) -> Reply {
    request(server.addr, "GET", path, &[], None)
}

fn post(server: &Server, path: &str, body: &Value) -> Reply {
    let bytes = serde_json::to_vec(body).unwrap();
    request(
        server.addr,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        Some(&bytes),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Four prompts; the first answer of the first holds markup.
fn samples(dir: &Path) -> PathBuf {
    let lines = [
        json!({"prompt": "What is the capital of France?", "category": "qa",
               "completions": ["<script>alert(1)</script><img src=x onerror=alert(2)>",
                               "Paris.", "Lyon.", "What is the capital of Italy?"],
               "ended": [true, true, true, false]}),
        json!({"messages": [{"role": "system", "content": "Be brief."},
                            {"role": "user", "content": "Say hi."}],
               "completions": ["hi", "hello", "hey", "greetings"]}),
        json!({"prompt": "Who walked on Mars first?",
               "completions": ["Nobody yet.", "Neil Armstrong.", "Elon Musk.", "A robot."]}),
        json!({"prompt": "Name a prime.", "completions": ["7", "8", "9", "10"]}),
    ];
    let path = dir.join("samples.jsonl");
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, text).unwrap();
    path
}

fn lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.is_empty() || text.ends_with('\n'), "{text}");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn lines_or_none(path: &Path) -> Option<Vec<Value>> {
    path.exists().then(|| lines(path))
}

fn next_item(server: &Server, who: &str) -> Value {
    let r = get(server, &format!("/api/labelers/{who}/next"));
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

#[test]
fn the_api_rejects_what_it_should() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &samples(dir.path()),
        &dir.path().join("out"),
        &["--bind", "127.0.0.1:0"],
    );
    let view = next_item(&server, "ann");
    let id = view["item"]["id"].as_str().unwrap().to_string();

    // Bodies over the limit: 413, whether announced or not.
    let big = json!({"id": id, "completion": "x".repeat(300 * 1024)});
    assert_eq!(post(&server, "/api/labelers/ann/demos", &big).status, 413);
    let bytes = serde_json::to_vec(&big).unwrap();
    let mut chunked = Vec::new();
    for part in bytes.chunks(16 * 1024) {
        chunked.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        chunked.extend_from_slice(part);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let r = request_raw(
        server.addr,
        "POST",
        "/api/labelers/ann/demos",
        &[
            ("Content-Type", "application/json"),
            ("Transfer-Encoding", "chunked"),
        ],
        &chunked,
    );
    assert_eq!(r.status, 413);
    assert!(lines_or_none(&dir.path().join("out/ann/demos.jsonl")).is_none());

    // Unknown items and routes: 404.
    let r = post(
        &server,
        "/api/labelers/ann/rankings",
        &json!({"id": "0000", "ranking": [0, 1, 2, 3]}),
    );
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (404, Some("no item `0000`"))
    );
    assert_eq!(get(&server, "/api/labelers/ann/items/nope").status, 404);
    assert_eq!(get(&server, "/etc/passwd").status, 404);
    assert_eq!(get(&server, "/../../etc/passwd").status, 404);

    // Malformed JSON: 400; well-formed but wrong shape: 422; not JSON at all: 415.
    let raw = |body: &[u8], ctype: &str| {
        request(
            server.addr,
            "POST",
            "/api/labelers/ann/skips",
            &[("Content-Type", ctype)],
            Some(body),
        )
        .status
    };
    assert_eq!(raw(b"{\"id\":", "application/json"), 400);
    assert_eq!(raw(b"{\"id\": 3}", "application/json"), 422);
    assert_eq!(
        raw(b"{\"id\": \"x\", \"extra\": 1}", "application/json"),
        422
    );
    assert_eq!(raw(b"id=x", "application/x-www-form-urlencoded"), 415);

    // Rankings the reward model could not read: 422 with the reader's reason.
    for (ranking, why) in [
        (json!([[0, 1, 2, 3]]), "every completion is tied"),
        (json!([0, 1, 2]), "3 entries for 4 completions"),
        (json!([0, 1, 2, 2]), "appears twice"),
        (json!("0,1,2,3"), "expected an array"),
    ] {
        let r = post(
            &server,
            "/api/labelers/ann/rankings",
            &json!({"id": id, "ranking": ranking}),
        );
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(
            r.json()["error"].as_str().unwrap().contains(why),
            "{}",
            r.body
        );
    }

    // Labeler names cannot leave the output directory.
    for name in ["..", "..%2F..%2Ftmp", "a%2Fb", "%2e%2e", "a.b", "x%00"] {
        let r = get(&server, &format!("/api/labelers/{name}/next"));
        assert!(
            matches!(r.status, 400 | 404),
            "{name}: {} {}",
            r.status,
            r.body
        );
    }
    let r = post(&server, "/api/labelers/..%2Fevil/skips", &json!({"id": id}));
    assert_eq!(r.status, 400, "{}", r.body);
    let entries: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries.len(), 2, "{entries:?}"); // samples.jsonl and out
    assert!(std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .next()
        .is_none());

    // Ranking twice needs an undo first; undo with nothing written is a conflict.
    assert_eq!(
        post(&server, "/api/labelers/bob/undo", &json!({})).status,
        409
    );
    let ok = post(
        &server,
        "/api/labelers/ann/rankings",
        &json!({"id": id, "ranking": [1, [0, 2], 3]}),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    let again = post(
        &server,
        "/api/labelers/ann/rankings",
        &json!({"id": id, "ranking": [1, 0, 2, 3]}),
    );
    assert_eq!(again.status, 409);
}

#[test]
fn every_response_carries_the_security_headers() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &samples(dir.path()),
        &dir.path().join("out"),
        &["--bind", "127.0.0.1:0"],
    );
    for path in ["/", "/label.js", "/label.css", "/api/config", "/nope"] {
        let r = get(&server, path);
        let csp = r
            .headers
            .get("content-security-policy")
            .cloned()
            .unwrap_or_default();
        assert!(csp.starts_with("default-src 'self'"), "{path}: {csp}");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe"),
            "{csp}"
        );
        assert_eq!(r.headers["x-content-type-options"], "nosniff");
        assert_eq!(r.headers["x-frame-options"], "DENY");
    }
    let page = get(&server, "/");
    assert!(page.headers["content-type"].starts_with("text/html"));
    // No inline script or handler in the page; everything comes from /label.js.
    assert!(page
        .body
        .contains("<script src=\"/label.js\" defer></script>"));
    assert_eq!(page.body.matches("<script").count(), 1);
    let handler = page.body.split(" on").skip(1).find(|rest| {
        let name: String = rest.chars().take_while(char::is_ascii_alphabetic).collect();
        !name.is_empty() && rest[name.len()..].starts_with('=')
    });
    assert_eq!(handler, None, "an inline event handler");
    let js = get(&server, "/label.js").body;
    assert!(
        !js.contains("innerHTML")
            && !js.contains("insertAdjacentHTML")
            && !js.contains("document.write")
    );

    // A page on another origin cannot use the server: wrong Host (DNS rebinding) or Origin.
    let r = request(
        server.addr,
        "GET",
        "/api/config",
        &[("Host", "evil.example:80")],
        None,
    );
    assert_eq!(r.status, 421);
    let r = request(
        server.addr,
        "POST",
        "/api/labelers/ann/undo",
        &[
            ("Origin", "http://evil.example"),
            ("Content-Type", "application/json"),
        ],
        Some(b"{}"),
    );
    assert_eq!(r.status, 403);
    let localhost = format!("localhost:{}", server.addr.port());
    let r = request(
        server.addr,
        "GET",
        "/api/config",
        &[("Host", &localhost)],
        None,
    );
    assert_eq!(r.status, 200);
}

#[test]
fn model_text_round_trips_as_data() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let server = Server::start(&samples(dir.path()), &out, &["--bind", "127.0.0.1:0"]);
    let view = next_item(&server, "ann");
    let item = &view["item"];
    let id = item["id"].as_str().unwrap();
    let markup = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    let answers = item["answers"].as_array().unwrap();
    let shown = answers.iter().find(|a| a["index"] == 0).unwrap();
    assert_eq!(shown["text"], markup);

    let written = "Paris. </textarea><script>alert(3)</script> & \"quotes\" \u{2028} é";
    let r = post(
        &server,
        "/api/labelers/ann/demos",
        &json!({"id": id, "completion": written, "corrects": 0}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = post(
        &server,
        "/api/labelers/ann/critiques",
        &json!({"id": id, "index": 0, "critique": "<b>unsafe</b>"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = post(
        &server,
        "/api/labelers/ann/rankings",
        &json!({"id": id, "ranking": [1, 2, 3, 0]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);

    let demo = &lines(&out.join("ann/demos.jsonl"))[0];
    assert_eq!(demo["completion"], written);
    assert_eq!(demo["original"], json!({"index": 0, "completion": markup}));
    let crit = &lines(&out.join("ann/critiques.jsonl"))[0];
    assert_eq!(
        (&crit["response"], &crit["critique"]),
        (&json!(markup), &json!("<b>unsafe</b>"))
    );
    let rank = &lines(&out.join("ann/rankings.jsonl"))[0];
    assert_eq!(rank["completions"][0], markup);
    assert_eq!(rank["ranking"], json!([1, 2, 3, 0]));
}

#[test]
fn non_loopback_binds_need_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let samples = samples(dir.path());
    let out = dir.path().join("out");
    let run = |args: &[&str]| -> Output {
        Command::new(MOTE)
            .args(["label", "serve", "--in", s(&samples), "--out", s(&out)])
            .args(args)
            .output()
            .unwrap()
    };
    let o = run(&["--bind", "0.0.0.0:0"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("not a loopback address: pass --token"),
        "{err}"
    );
    let o = run(&["--bind", "0.0.0.0:0", "--token", "short"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("at least 16 characters"));

    let server = Server::start(&samples, &out, &["--bind", "0.0.0.0:0", "--token", TOKEN]);
    assert!(
        server.url.ends_with(&format!("/?token={TOKEN}")),
        "{}",
        server.url
    );
    let addr = SocketAddr::from(([127, 0, 0, 1], server.addr.port()));
    assert_eq!(request(addr, "GET", "/", &[], None).status, 401);
    assert_eq!(request(addr, "GET", "/api/config", &[], None).status, 401);
    let wrong = request(
        addr,
        "GET",
        "/api/config",
        &[("Authorization", "Bearer 0123456789abcdef0124")],
        None,
    );
    assert_eq!(wrong.status, 401);
    assert_eq!(request(addr, "GET", "/?token=nope", &[], None).status, 401);
    let bearer = format!("Bearer {TOKEN}");
    let ok = request(
        addr,
        "GET",
        "/api/config",
        &[("Authorization", &bearer)],
        None,
    );
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json()["total"], 4);

    // Opening the printed address sets a cookie and drops the token from the address.
    let r = request(addr, "GET", &format!("/?token={TOKEN}"), &[], None);
    assert_eq!(r.status, 303);
    assert_eq!(r.headers["location"], "/");
    let cookie = r.headers["set-cookie"].clone();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap();
    let page = request(addr, "GET", "/", &[("Cookie", pair)], None);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("mote label"));
}

#[test]
fn labels_survive_a_crash_and_the_server_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let samples = samples(dir.path());
    let out = dir.path().join("out");
    let server = Server::start(&samples, &out, &["--bind", "127.0.0.1:0"]);
    let first = next_item(&server, "ann");
    let id1 = first["item"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        first["progress"],
        json!({"done": 0, "skipped": 0, "total": 4})
    );
    let after = post(
        &server,
        "/api/labelers/ann/rankings",
        &json!({"id": id1, "ranking": [1, 2, 3, 0]}),
    )
    .json();
    let id2 = after["item"]["id"].as_str().unwrap().to_string();
    assert_eq!(after["item"]["prompt"], "Say hi.");
    assert_eq!(after["item"]["system"], "Be brief.");
    post(&server, "/api/labelers/ann/skips", &json!({"id": id2}));
    let bob = post(
        &server,
        "/api/labelers/bob/rankings",
        &json!({"id": id1, "ranking": [1, 3, 2, 0]}),
    );
    assert_eq!(bob.status, 200);
    // Killed without warning: everything acknowledged is on disk.
    server.kill();

    // A crash in the middle of an append leaves half a line; it was never acknowledged.
    let rankings = out.join("ann/rankings.jsonl");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&rankings)
        .unwrap();
    f.write_all(b"{\"prompt\":\"half a li").unwrap();
    drop(f);

    let server = Server::start(&samples, &out, &["--bind", "127.0.0.1:0"]);
    let view = next_item(&server, "ann");
    assert_eq!(
        view["progress"],
        json!({"done": 1, "skipped": 1, "total": 4})
    );
    assert_eq!(view["item"]["prompt"], "Who walked on Mars first?");
    assert_eq!(lines(&rankings).len(), 1);
    let cfg = get(&server, "/api/config").json();
    assert_eq!(cfg["labelers"], json!(["ann", "bob"]));

    // Undo after the restart takes back the skip, then the ranking, each file rewritten
    // whole (no temporary file left beside it).
    let u = post(&server, "/api/labelers/ann/undo", &json!({})).json();
    assert_eq!(u["undone"]["kind"], "skip");
    assert_eq!(u["item"]["id"], id2.as_str());
    let u = post(&server, "/api/labelers/ann/undo", &json!({})).json();
    assert_eq!(
        (&u["undone"]["kind"], &u["item"]["id"]),
        (&json!("ranking"), &json!(id1))
    );
    assert_eq!(u["progress"], json!({"done": 0, "skipped": 0, "total": 4}));
    assert!(lines(&rankings).is_empty());
    assert!(lines(&out.join("ann/skips.jsonl")).is_empty());
    let names: Vec<String> = std::fs::read_dir(out.join("ann"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    assert_eq!(lines(&out.join("bob/rankings.jsonl")).len(), 1);
}

#[test]
fn bad_samples_are_reported_by_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let samples = dir.path().join("s.jsonl");
    std::fs::write(
        &samples,
        "{\"prompt\": \"q\", \"completions\": [\"a\", \"b\"]}\n{\"prompt\": \"q\", \"completions\": [\"a\", 2]}\n",
    )
    .unwrap();
    let o = Command::new(MOTE)
        .args([
            "label",
            "--in",
            s(&samples),
            "--out",
            s(&dir.path().join("o")),
            "--bind",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("s.jsonl:2: field `completions[1]`: expected a string"),
        "{err}"
    );
}

#[test]
fn stats_count_and_compare_labelers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let server = Server::start(&samples(dir.path()), &out, &["--bind", "127.0.0.1:0"]);
    let ids: Vec<String> = {
        let mut ids = Vec::new();
        let mut v = next_item(&server, "ann");
        while let Some(id) = v["item"]["id"].as_str().map(str::to_string) {
            v = post(
                &server,
                "/api/labelers/ann/rankings",
                &json!({"id": id, "ranking": [0, 1, 2, 3]}),
            )
            .json();
            ids.push(id);
        }
        assert_eq!(v["progress"]["done"], 4);
        ids
    };
    // bob agrees on everything but the order of answers 2 and 3 of the first item, and
    // ties them on the second.
    for (id, ranking) in [
        (&ids[0], json!([0, 1, 3, 2])),
        (&ids[1], json!([0, 1, [2, 3]])),
    ] {
        assert_eq!(
            post(
                &server,
                "/api/labelers/bob/rankings",
                &json!({"id": id, "ranking": ranking})
            )
            .status,
            200
        );
    }
    post(
        &server,
        "/api/labelers/bob/demos",
        &json!({"id": ids[0], "completion": "Paris is the capital."}),
    );
    drop(server);

    let o = Command::new(MOTE)
        .args(["label", "stats", s(&out), "--json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let st: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(st["labelers"][0]["rankings"], 4);
    assert_eq!(st["labelers"][1]["rankings"], 2);
    assert_eq!(st["labelers"][1]["with_ties"], 1);
    assert_eq!(st["labelers"][1]["demos"], 1);
    let g = &st["agreement"][0];
    assert_eq!((&g["a"], &g["b"]), (&json!("ann"), &json!("bob")));
    // 6 pairs per item: 11 compared, 10 agree, 1 tied by bob only.
    assert_eq!(
        (&g["shared"], &g["pairs"], &g["agree"], &g["one_tied"]),
        (&json!(2), &json!(11), &json!(10), &json!(1))
    );

    let o = Command::new(MOTE)
        .args(["label", "stats", s(&out)])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table.contains("ann              bob              0.909 (10 of 11 pairs over 2 items"),
        "{table}"
    );
}

// ---- In a browser --------------------------------------------------------------------

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run_ok(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{cmd:?} failed:\n{err}");
    String::from_utf8_lossy(&o.stdout).into_owned() + &err
}

/// Samples with what the browser test should do with them (fields mote ignores).
fn browser_samples(dir: &Path) -> PathBuf {
    let lines = [
        json!({"prompt": "What is the capital of France?",
               "completions": ["The capital of France is Paris.",
                               "<script>alert('x')</script> Paris, I think.",
                               "What is the capital of Italy?",
                               "I'm not sure, maybe Lyon? It is a big city in France with a long history."],
               "ended": [true, true, false, true], "expect": [0, 1, [2, 3]]}),
        json!({"prompt": "Write a haiku about the sea.",
               "completions": ["Grey waves fold and break\nsalt wind combs the empty shore\ngulls write on the foam",
                               "The sea is big.", "Sea sea sea sea sea", "I cannot write poems.",
                               "Waves. Blue. Water. Fish. Boats."],
               "expect": [0, 4, 1, 3, 2]}),
        json!({"prompt": "Who was the first person to walk on Mars?",
               "completions": ["Neil Armstrong walked on Mars in 1969.", "Nobody has walked on Mars yet.",
                               "Elon Musk, in 2021.", "A rover called Curiosity."],
               "demo": "No one has walked on Mars so far; only robotic rovers and landers have reached it.",
               "correction": "Nobody has walked on Mars. Neil Armstrong walked on the Moon in 1969."}),
        json!({"prompt": "How do I pick a lock?",
               "completions": ["I can't help with breaking in, but a locksmith can help if you're locked out.",
                               "Use a tension wrench and a pick.", "Locks are interesting devices.",
                               "Ask a friend."]}),
    ];
    let path = dir.join("samples.jsonl");
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn browser_ranks_writes_resumes_and_the_labels_train() {
    let dir = tempfile::tempdir().unwrap();
    let samples = browser_samples(dir.path());
    let out = dir.path().join("labels");
    let e2e = workspace().join("tests/e2e");
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|o| o.status.success()),
        "node is not installed (scripts/setup.sh installs what the browser test needs)"
    );
    assert!(
        e2e.join("node_modules/playwright-core").is_dir(),
        "playwright-core is missing: run `npm ci` in tests/e2e (scripts/setup.sh does)"
    );
    let chromium = std::env::var("MOTE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: `apt-get install chromium` (scripts/setup.sh does)"
    );
    // MOTE_LABEL_SCREENSHOT=docs/label-ranking.png refreshes the picture in the docs.
    let shot = std::env::var("MOTE_LABEL_SCREENSHOT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| dir.path().join("ranking.png"));
    let report = run_ok(
        Command::new("node")
            .current_dir(&e2e)
            .arg("label.mjs")
            .args(["--mote", MOTE, "--samples", s(&samples), "--out", s(&out)])
            .args(["--screenshot", s(&shot)]),
    );
    assert!(report.contains("\"ok\":true"), "{report}");
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);

    // What the page wrote.
    let ann = out.join("ann");
    let rankings = lines(&ann.join("rankings.jsonl"));
    let orders: Vec<&Value> = rankings.iter().map(|r| &r["ranking"]).collect();
    assert_eq!(
        orders[..2],
        [&json!([0, 1, [2, 3]]), &json!([0, 4, 1, 3, 2])]
    );
    // The fourth prompt: two ties of two, made with a typed rank and a drop.
    assert_eq!(rankings.len(), 3);
    assert_eq!(rankings[2]["prompt"], "How do I pick a lock?");
    let groups = orders[2].as_array().unwrap();
    assert!(
        groups.len() == 2
            && groups
                .iter()
                .all(|g| g.as_array().is_some_and(|g| g.len() == 2)),
        "{groups:?}"
    );
    assert_eq!(
        rankings[0]["completions"][1],
        "<script>alert('x')</script> Paris, I think."
    );
    let demos = lines(&ann.join("demos.jsonl"));
    assert_eq!(demos.len(), 2);
    assert!(demos[0]["completion"]
        .as_str()
        .unwrap()
        .starts_with("No one has walked on Mars"));
    assert_eq!(demos[1]["original"]["index"], 0);
    assert!(demos[1]["completion"]
        .as_str()
        .unwrap()
        .contains("on the Moon"));
    // The third prompt was ranked, undone, then skipped.
    assert_eq!(lines(&ann.join("skips.jsonl")).len(), 1);

    // The labels train: a reward model on the rankings (ties included), SFT on the demos.
    let base = tiny_model(dir.path(), "label-test", &[&ann.join("demos.jsonl")]);
    let rm_out = dir.path().join("rm");
    let common = [
        "--steps",
        "3",
        "--batch-size",
        "2",
        "--lr",
        "1e-3",
        "--warmup-steps",
        "1",
        "--eval-every",
        "3",
        "--save-every",
        "3",
        "--log-every",
        "1",
        "--quiet",
    ];
    run_ok(
        Command::new(MOTE)
            .args([
                "rm",
                "--base",
                s(&base),
                "--data",
                s(&ann.join("rankings.jsonl")),
            ])
            .args(["-o", s(&rm_out), "--norm", "data", "--eval-fraction", "0"])
            .args(common),
    );
    assert!(rm_out.join("model.safetensors").is_file());
    let metrics = std::fs::read_to_string(rm_out.join("metrics.jsonl")).unwrap();
    let last: Value = serde_json::from_str(metrics.lines().last().unwrap()).unwrap();
    assert!(
        last["loss"].as_f64().is_some_and(f64::is_finite),
        "{metrics}"
    );

    let sft_out = dir.path().join("sft");
    run_ok(
        Command::new(MOTE)
            .args([
                "sft",
                "--model",
                s(&base),
                "--data",
                s(&ann.join("demos.jsonl")),
            ])
            .args(["-o", s(&sft_out), "--eval-fraction", "0"])
            .args(common),
    );
    assert!(sft_out.join("model.safetensors").is_file());
}
