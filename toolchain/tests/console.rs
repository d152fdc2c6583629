//! `mote console` with its input piped: against a scripted stand-in for the board's console
//! over TCP and over a pseudo-terminal, and against the real console on QEMU (`mote flash
//! --board qemu-virt --serial tcp:PORT`), whose exported preferences then train a reward
//! model and whose demonstrations an SFT run.
//!
//! The QEMU test needs qemu-system-aarch64 and the aarch64-unknown-none target
//! (scripts/setup.sh installs both); without them it fails, it does not skip.

mod tiny_cli_model;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use tiny_cli_model::tiny_model;

use mote_toolchain::data::sft::parse_conversation;
use mote_toolchain::data::{read_preferences, read_records};

const MOTE: &str = env!("CARGO_BIN_EXE_mote");

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

// ---- A scripted board ------------------------------------------------------------------

const BANNER: &[u8] = b"mote console: /help lists the commands\r\n";

/// What the stand-in prints for `/export`: three good blocks, a bad line, and a block
/// whose name would leave the feedback directory.
const EXPORT: &[u8] = b"--- sft.jsonl: demonstrations for `mote sft` (/good, /better) ---\r\n\
{\"system\":\"Be brief.\",\"prompt\":\"hello\",\"completion\":\"A better answer.\"}\r\n\
{\"prompt\":\"hello\"}\r\n\
--- preferences.jsonl: pairs for `mote rm` and `mote dpo` (/better) ---\r\n\
{\"system\":\"Be brief.\",\"prompt\":\"hello\",\"chosen\":\"A better answer.\",\"rejected\":\"Hi there!\"}\r\n\
--- ../escape.jsonl: not a plain name ---\r\n\
{\"prompt\":\"a\",\"completion\":\"b\"}\r\n\
--- labels.jsonl: replies rated good or bad, KTO-style (/good, /bad) ---\r\n\
{\"prompt\":\"hello\",\"completion\":\"Hi there!\",\"label\":true}\r\n\
--- end of export: 4 records from 2 entries ---\r\n";

/// What the stand-in saw.
#[derive(Debug, Default)]
struct BoardLog {
    received: Vec<u8>,
    /// Bytes that came while a reply was still being written, before the prompt.
    early: Vec<u8>,
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
    )
}

/// A stand-in for `firmware/console`: prompt, echo, a canned answer per line, the export
/// above in small pieces, and the end at Ctrl-D on an empty line. `port` must have a read
/// timeout (a quiet link reads as a timeout). Returns after Ctrl-D or when the link ends.
fn fake_board(mut port: impl Read + Write) -> BoardLog {
    let mut log = BoardLog::default();
    let mut line = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 256];
    port.write_all(BANNER).unwrap();
    port.write_all(b"> ").unwrap();
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "board stand-in ran too long"
        );
        if pending.is_empty() {
            match port.read(&mut buf) {
                Ok(0) => return log,
                Ok(n) => pending.extend_from_slice(&buf[..n]),
                Err(e) if is_timeout(&e) => continue,
                Err(_) => return log,
            }
        }
        let b = pending.remove(0);
        log.received.push(b);
        match b {
            0x04 if line.is_empty() => {
                port.write_all(b"\r\n").unwrap();
                return log;
            }
            b'\n' if log.received.ends_with(b"\r\n") => {}
            b'\r' | b'\n' => {
                port.write_all(b"\r\n").unwrap();
                let answer: &[u8] = match &line[..] {
                    b"hello" => b"Hi there!\r\n",
                    b"/export" => EXPORT,
                    l if l.starts_with(b"/better ") => b"(recorded: better; 1 entry)\r\n",
                    _ => b"(unknown command)\r\n",
                };
                // In pieces that split lines, "\r\n" and the header.
                for piece in answer.chunks(7) {
                    port.write_all(piece).unwrap();
                    std::thread::sleep(Duration::from_millis(1));
                }
                line.clear();
                // Nothing should come before the prompt.
                std::thread::sleep(Duration::from_millis(150));
                match port.read(&mut buf) {
                    Ok(n) => {
                        log.early.extend_from_slice(&buf[..n]);
                        pending.extend_from_slice(&buf[..n]);
                    }
                    Err(e) if is_timeout(&e) => {}
                    Err(_) => return log,
                }
                port.write_all(b"> ").unwrap();
            }
            _ => {
                port.write_all(&[b]).unwrap();
                line.push(b);
            }
        }
    }
}

/// Run `cmd` with `input` on its standard input; kill it after `limit`.
fn run_piped(cmd: &mut Command, input: &[u8], limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    child.stdin.take().unwrap().write_all(input).unwrap();
    wait_output(child, limit, &format!("{cmd:?}"))
}

fn wait_output(mut child: Child, limit: Duration, what: &str) -> Output {
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut v);
            }
            v
        })
    };
    let out = drain(child.stdout.take().map(|r| Box::new(r) as _));
    let err = drain(child.stderr.take().map(|r| Box::new(r) as _));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let (out, err) = (out.join().unwrap(), err.join().unwrap());
            panic!(
                "{what} still running after {limit:?}\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&err)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn assert_ok(o: &Output, what: &str) -> (String, String) {
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert!(
        o.status.success(),
        "{what}: {}\nstdout:\n{out}\nstderr:\n{err}",
        o.status
    );
    (out, err)
}

const SCRIPT: &[u8] = b"hello\n/better A better answer.\n/export\n\x04";

/// The files a session against the stand-in must leave.
fn check_feedback(dir: &Path) {
    let prefs = read_preferences(&dir.join("preferences.jsonl")).unwrap();
    assert_eq!(prefs.len(), 1);
    assert_eq!(prefs[0].responses, ["A better answer.", "Hi there!"]);
    let sft = read_records(&dir.join("sft.jsonl")).unwrap();
    assert_eq!(sft.len(), 1, "the line without a completion is not saved");
    assert_eq!(
        parse_conversation(&sft[0]).unwrap()[2].content,
        "A better answer."
    );
    let labels = read_records(&dir.join("labels.jsonl")).unwrap();
    assert_eq!(labels[0].fields["label"], true);
    let names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(!dir.join("../escape.jsonl").exists());
}

/// The stand-in board behind a loopback TCP port, for one connection.
fn tcp_fake_board() -> (u16, std::thread::JoinHandle<BoardLog>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let board = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        fake_board(stream)
    });
    (port, board)
}

#[test]
fn tcp_session_logs_both_ways_and_saves_the_export() {
    let dir = tempfile::tempdir().unwrap();
    let (port, board) = tcp_fake_board();
    let log = dir.path().join("session.log");
    let feedback = dir.path().join("feedback");
    let start = Instant::now();
    let o = run_piped(
        Command::new(MOTE)
            .args(["console", &format!("tcp:127.0.0.1:{port}")])
            .args(["--log", s(&log), "--feedback", s(&feedback)])
            .args(["--linger", "1"]),
        SCRIPT,
        Duration::from_secs(30),
    );
    let (out, err) = assert_ok(&o, "mote console");
    eprintln!("session took {:?}", start.elapsed());
    let seen = board.join().unwrap();

    // The board got each line after its prompt, in order, and Ctrl-D last.
    assert_eq!(seen.received, SCRIPT);
    assert_eq!(text(&seen.early), "", "input arrived before the prompt");
    // Its output went to stdout unchanged.
    assert!(out.starts_with(&text(BANNER)), "{out}");
    assert!(out.contains("> hello\r\nHi there!\r\n> "), "{out}");
    assert!(out.contains(&text(EXPORT)), "{out}");
    // Notes on stderr: the bad line by block and line, the refused block, the summary.
    assert!(
        err.contains("skipped sft.jsonl:2: field `completion`: missing"),
        "{err}"
    );
    assert!(
        err.contains("not a plain *.jsonl name: --- ../escape.jsonl"),
        "{err}"
    );
    let summary = format!(
        "feedback: saved 1 record to {0}/sft.jsonl, 1 record to {0}/preferences.jsonl, \
         1 record to {0}/labels.jsonl; 1 bad lines skipped",
        feedback.display()
    );
    assert!(err.contains(&summary), "{err}");
    assert!(err.contains("the board's side closed"), "{err}");
    check_feedback(&feedback);

    // The log: both directions, one line each, with times.
    let log = std::fs::read_to_string(&log).unwrap();
    let entries: Vec<&str> = log
        .lines()
        .map(|l| {
            let (time, rest) = l.split_once(' ').unwrap();
            assert!(time.ends_with('Z') && time.len() == 24, "{l}");
            rest
        })
        .collect();
    for want in [
        "< mote console: /help lists the commands",
        "> hello",
        "< > hello",
        "< Hi there!",
        "> /better A better answer.",
        "> /export",
        "< {\"prompt\":\"hello\",\"completion\":\"Hi there!\",\"label\":true}",
        "> ^D",
    ] {
        assert!(entries.contains(&want), "no `{want}` in the log:\n{log}");
    }
    assert!(
        entries
            .iter()
            .any(|e| e.starts_with("* feedback: saved 1 record")),
        "{log}"
    );
    let typed = entries.iter().position(|e| *e == "> hello").unwrap();
    let echoed = entries.iter().position(|e| *e == "< > hello").unwrap();
    assert!(typed < echoed, "{log}");
}

/// The same session through a pseudo-terminal (as QEMU's `-serial pty` gives), with the
/// default log name; a second export of the same records adds nothing.
#[test]
fn pty_session_default_log_and_repeated_export() {
    let dir = tempfile::tempdir().unwrap();
    let feedback = dir.path().join("feedback");
    for round in 0..2 {
        let (master, slave) = serialport::TTYPort::pair().unwrap();
        let name = serialport::SerialPort::name(&slave).unwrap();
        // The test keeps the terminal side open, so what the stand-in writes before
        // `mote console` opens it waits there.
        let board = std::thread::spawn(move || fake_board(master));
        let o = run_piped(
            Command::new(MOTE)
                .current_dir(dir.path())
                .args(["console", &name, "--linger", "1"]),
            SCRIPT,
            Duration::from_secs(30),
        );
        let (out, err) = assert_ok(&o, "mote console");
        let seen = board.join().unwrap();
        drop(slave);
        assert_eq!(seen.received, SCRIPT);
        assert!(out.contains("> hello\r\nHi there!\r\n> "), "{out}");
        check_feedback(&feedback);
        if round == 1 {
            assert!(
                err.contains("feedback: nothing new saved; 3 records already saved"),
                "{err}"
            );
        }
    }
    let logs: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("mote-console-"))
        .collect();
    assert!(!logs.is_empty(), "no default log");
    for n in &logs {
        // mote-console-YYYYmmdd-HHMMSS.log
        assert_eq!(n.len(), "mote-console-20250101-120000.log".len(), "{n}");
        assert!(n.ends_with(".log"));
    }
}

#[test]
fn bad_ports_are_reported() {
    let o = run_piped(
        Command::new(MOTE).args(["console", "tcp:nope"]),
        b"",
        Duration::from_secs(10),
    );
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("unknown port `tcp:nope`"),
        "{}",
        text(&o.stderr)
    );
    // Nothing listens: refused after the wait, naming the port.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let o = run_piped(
        Command::new(MOTE).current_dir(dir.path()).args([
            "console",
            &format!("tcp:{port}"),
            "--wait",
            "0.5",
        ]),
        b"",
        Duration::from_secs(10),
    );
    let err = text(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains(&format!("error: tcp:127.0.0.1:{port}: ")),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no log without a link"
    );
}

/// A device that never shows the console's prompt: each line goes once it has been quiet
/// for --linger seconds.
#[test]
fn without_a_prompt_lines_wait_for_quiet() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let device = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.write_all(b"READY\r\n").unwrap();
        let mut arrivals = Vec::new();
        let mut buf = [0u8; 64];
        while let Ok(n @ 1..) = stream.read(&mut buf) {
            arrivals.push((Instant::now(), buf[..n].to_vec()));
        }
        arrivals
    });
    let o = run_piped(
        Command::new(MOTE).args([
            "console",
            &format!("tcp:{port}"),
            "--no-log",
            "--linger",
            "0.4",
        ]),
        b"one\ntwo\n",
        Duration::from_secs(20),
    );
    assert_ok(&o, "mote console");
    let arrivals = device.join().unwrap();
    let lines: Vec<&[u8]> = arrivals.iter().map(|(_, b)| &b[..]).collect();
    assert_eq!(lines, [&b"one\n"[..], b"two\n"]);
    let gap = arrivals[1].0 - arrivals[0].0;
    assert!(gap >= Duration::from_millis(400), "{gap:?}");
}

/// `mote console tcp:…` on a pseudo-terminal set up like a login terminal (line editing,
/// echo, signal keys), started and seen to enter raw mode.
struct TerminalRig {
    keyboard: serialport::TTYPort,
    tty: std::fs::File,
    before: nix::sys::termios::Termios,
    child: Option<Child>,
    board: std::thread::JoinHandle<BoardLog>,
    screen: std::thread::JoinHandle<Vec<u8>>,
    _dir: tempfile::TempDir,
}

impl TerminalRig {
    fn start() -> TerminalRig {
        use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg};
        use std::os::fd::AsRawFd;

        let (port, board) = tcp_fake_board();
        let (keyboard, terminal) = serialport::TTYPort::pair().unwrap();
        let name = serialport::SerialPort::name(&terminal).unwrap();
        let tty = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&name)
            .unwrap();
        let mut cooked = tcgetattr(tty.as_raw_fd()).unwrap();
        cooked.local_flags |= LocalFlags::ICANON | LocalFlags::ECHO | LocalFlags::ISIG;
        tcsetattr(tty.as_raw_fd(), SetArg::TCSANOW, &cooked).unwrap();
        let before = tcgetattr(tty.as_raw_fd()).unwrap();

        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(MOTE)
            .current_dir(dir.path())
            .args(["console", &format!("tcp:{port}"), "--no-log"])
            .stdin(Stdio::from(tty.try_clone().unwrap()))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let screen = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = stdout.read_to_end(&mut v);
            v
        });
        // Raw once it says so on stderr.
        let mut err = child.stderr.take().unwrap();
        let mut said = Vec::new();
        let mut byte = [0u8];
        while !said.ends_with(b"Ctrl-] quits\n") {
            assert_eq!(err.read(&mut byte).unwrap(), 1, "{}", text(&said));
            said.push(byte[0]);
        }
        let during = tcgetattr(tty.as_raw_fd()).unwrap();
        assert!(!during
            .local_flags
            .intersects(LocalFlags::ICANON | LocalFlags::ECHO | LocalFlags::ISIG));
        TerminalRig {
            keyboard,
            tty,
            before,
            child: Some(child),
            board,
            screen,
            _dir: dir,
        }
    }

    /// Waits for `mote console` to end.
    fn wait(&mut self) -> Output {
        let child = self.child.take().expect("waited once");
        wait_output(child, Duration::from_secs(20), "mote console")
    }

    /// The terminal's settings are as they were before `mote console` started.
    fn assert_restored(&self) {
        use nix::sys::termios::tcgetattr;
        use std::os::fd::AsRawFd;
        let flags = |t: &nix::sys::termios::Termios| {
            (
                t.local_flags,
                t.input_flags,
                t.output_flags,
                t.control_flags,
            )
        };
        let after = tcgetattr(self.tty.as_raw_fd()).unwrap();
        assert_eq!(flags(&after), flags(&self.before));
    }
}

/// On a terminal: raw mode while connected (Ctrl-C reaches the board as a byte), Ctrl-]
/// quits, and the terminal's settings are as they were afterwards.
#[test]
fn keys_from_a_terminal_go_through_raw_and_ctrl_bracket_quits() {
    let mut rig = TerminalRig::start();
    rig.keyboard.write_all(b"hello\r").unwrap();
    std::thread::sleep(Duration::from_millis(400));
    rig.keyboard.write_all(&[0x03]).unwrap();
    std::thread::sleep(Duration::from_millis(400));
    rig.keyboard.write_all(&[0x1d]).unwrap();
    let o = rig.wait();
    assert!(o.status.success(), "{}", text(&o.stderr));
    rig.assert_restored();
    let TerminalRig { board, screen, .. } = rig;
    assert_eq!(board.join().unwrap().received, b"hello\r\x03");
    let out = text(&screen.join().unwrap());
    assert!(out.contains("> hello\r\nHi there!\r\n> "), "{out}");
}

/// Killed while in raw mode (`kill`, or the terminal closing), the console still puts the
/// terminal back, and ends as the signal says.
#[test]
fn a_terminating_signal_restores_the_terminal() {
    use std::os::unix::process::ExitStatusExt;
    for signal in ["TERM", "HUP"] {
        let mut rig = TerminalRig::start();
        let pid = rig.child.as_ref().unwrap().id().to_string();
        let kill = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status();
        assert!(kill.unwrap().success());
        let o = rig.wait();
        let expected = if signal == "TERM" { 15 } else { 1 };
        assert_eq!(o.status.signal(), Some(expected), "{:?}", o.status);
        rig.assert_restored();
    }
}

// ---- The real console on QEMU ----------------------------------------------------------

fn run_ok(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let err = text(&o.stderr);
    assert!(o.status.success(), "{cmd:?} failed:\n{err}");
    text(&o.stdout) + &err
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn qemu_board_feedback_trains_a_reward_model() {
    let ok = Command::new("qemu-system-aarch64")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "qemu-system-aarch64 is not installed (scripts/setup.sh installs it)"
    );
    let dir = tempfile::tempdir().unwrap();
    let model = mote_tests::reference_dir().join("ref-tiny-q8_0.gguf");
    let port = free_port();
    // The same settings as tests/tests/boards.rs, so a built image is reused.
    let start = Instant::now();
    let flash = Command::new(MOTE)
        .args(["flash", "--board", "qemu-virt", "--model", s(&model)])
        .args([
            "--serial",
            &format!("tcp:{port}"),
            "--icount",
            "--max-reply",
            "24",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let feedback = dir.path().join("feedback");
    let log = dir.path().join("session.log");
    // The console waits for QEMU's port while the image builds; a cold build of the
    // board's dependencies takes minutes, a warm one seconds.
    let mut console = Command::new(MOTE)
        .args([
            "console",
            &format!("tcp:{port}"),
            "--wait",
            "600",
            "--linger",
            "5",
        ])
        .args(["--feedback", s(&feedback), "--log", s(&log)])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    console
        .stdin
        .take()
        .unwrap()
        .write_all(b"hello there\n/better A better answer.\n/good\n/export\n\x04")
        .unwrap();
    // A failed build ends `mote flash` early: stop waiting for the console then.
    let mut flash = flash;
    while console.try_wait().unwrap().is_none() {
        if flash.try_wait().unwrap().is_some_and(|s| !s.success()) {
            let _ = console.kill();
            let o = wait_output(flash, Duration::from_secs(10), "mote flash");
            panic!("mote flash failed:\n{}", text(&o.stderr));
        }
        assert!(
            start.elapsed() < Duration::from_secs(660),
            "mote console hangs"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let console = wait_output(console, Duration::from_secs(10), "mote console");
    let flash = wait_output(flash, Duration::from_secs(60), "mote flash");
    let (_, flash_err) = assert_ok(&flash, "mote flash");
    let (out, err) = assert_ok(&console, "mote console");
    eprintln!("QEMU session took {:?}", start.elapsed());
    let context = format!("console stdout:\n{out}\nstderr:\n{err}\nflash:\n{flash_err}");
    assert!(out.contains("mote on qemu-virt:"), "{context}");
    assert!(out.contains("> /export\r\n--- sft.jsonl:"), "{context}");
    assert!(
        err.contains("the board's side closed"),
        "Ctrl-D powers the board off\n{context}"
    );
    assert!(!err.contains("skipped"), "{context}");

    // /better gave a pair and a demonstration, /good a demonstration and a label.
    let prefs = read_preferences(&feedback.join("preferences.jsonl")).unwrap();
    assert_eq!(prefs.len(), 1, "{context}");
    assert_eq!(prefs[0].responses[0], "A better answer.");
    assert_eq!(prefs[0].context.last().unwrap().content, "hello there");
    let sft = read_records(&feedback.join("sft.jsonl")).unwrap();
    assert_eq!(sft.len(), 2, "{context}");
    assert_eq!(
        read_records(&feedback.join("labels.jsonl")).unwrap().len(),
        1
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains(" > /better A better answer.\n"), "{logged}");

    // The loop closes: mote rm and mote sft take the files as they are.
    let base = tiny_model(dir.path(), "console-test", &[]);
    let common = [
        "--steps",
        "2",
        "--batch-size",
        "1",
        "--warmup-steps",
        "1",
        "--eval-every",
        "2",
        "--save-every",
        "2",
        "--log-every",
        "1",
        "--eval-fraction",
        "0",
        "--quiet",
    ];
    let rm = dir.path().join("rm");
    run_ok(
        Command::new(MOTE)
            .args(["rm", "--base", s(&base)])
            .args(["--data", s(&feedback.join("preferences.jsonl"))])
            .args(["-o", s(&rm), "--norm", "data"])
            .args(common),
    );
    assert!(rm.join("model.safetensors").is_file());
    let sft_out = dir.path().join("sft");
    run_ok(
        Command::new(MOTE)
            .args(["sft", "--model", s(&base)])
            .args(["--data", s(&feedback.join("sft.jsonl"))])
            .args(["-o", s(&sft_out)])
            .args(common),
    );
    assert!(sft_out.join("model.safetensors").is_file());
    eprintln!("with training: {:?}", start.elapsed());
}
