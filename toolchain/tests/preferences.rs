//! Preference files: the three layouts, and malformed lines reported with file, line and
//! field.

use mote_toolchain::data::preferences::read_preferences;
use mote_toolchain::data::sft::Role;

fn write(lines: &[&str]) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), lines.join("\n")).unwrap();
    f
}

/// The error of a file whose first line is good and whose second is `bad`.
fn error(good: &str, bad: &str) -> String {
    let f = write(&[good, bad]);
    let e = read_preferences(f.path()).unwrap_err().to_string();
    assert!(e.starts_with(&format!("{}:2: ", f.path().display())), "{e}");
    e
}

const PAIR: &str = r#"{"prompt": "q", "chosen": "a", "rejected": "b"}"#;
const IMPLICIT: &str =
    r#"{"chosen": "\n\nHuman: q\n\nAssistant: yes", "rejected": "\n\nHuman: q\n\nAssistant: no"}"#;
const RANKING: &str = r#"{"prompt": "q", "completions": ["a", "b", "c"], "ranking": [1, 2, 0]}"#;

#[test]
fn reads_pairs_transcripts_and_rankings() {
    let f = write(&[
        PAIR,
        IMPLICIT,
        RANKING,
        r#"{"prompt": "q", "system": "s", "chosen": "a", "rejected": "b", "extra": 1}"#,
    ]);
    let p = read_preferences(f.path()).unwrap();
    assert_eq!(p.len(), 4);
    assert_eq!(p[0].responses, ["a", "b"]);
    assert_eq!(p[1].responses, ["yes", "no"]);
    assert_eq!(p[1].context.len(), 1);
    assert_eq!(
        (p[1].context[0].role, p[1].context[0].content.as_str()),
        (Role::User, "q")
    );
    assert_eq!(p[2].responses, ["b", "c", "a"]);
    assert_eq!(p[2].pairs().len(), 3);
    assert_eq!(p[3].context[0].role, Role::System);
    assert_eq!(p[3].line, 4);
    assert_eq!(
        p[0].prompt_chatml(None),
        "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n"
    );
}

#[test]
fn malformed_pairs_name_file_line_and_field() {
    let e = error(PAIR, r#"{"prompt": "q", "chosen": "a"}"#);
    assert!(e.ends_with("field `rejected`: missing"), "{e}");
    let e = error(PAIR, r#"{"prompt": "q", "chosen": 3, "rejected": "b"}"#);
    assert!(
        e.ends_with("field `chosen`: expected a string, found a number"),
        "{e}"
    );
    let e = error(PAIR, r#"{"prompt": ["q"], "chosen": "a", "rejected": "b"}"#);
    assert!(
        e.ends_with("field `prompt`: expected a string, found an array"),
        "{e}"
    );
    let e = error(
        PAIR,
        r#"{"prompt": "q", "chosen": "a<|im_end|>", "rejected": "b"}"#,
    );
    assert!(
        e.contains("field `chosen`: contains the ChatML delimiter"),
        "{e}"
    );
    let e = error(PAIR, r#"{"question": "q"}"#);
    assert!(e.contains(":2: expected `prompt`"), "{e}");
    let e = error(PAIR, "[1]");
    assert!(e.contains(":2: expected a JSON object"), "{e}");
}

#[test]
fn malformed_transcripts_name_file_line_and_field() {
    let e = error(IMPLICIT, r#"{"chosen": "\n\nHuman: q\n\nAssistant: yes"}"#);
    assert!(e.ends_with("field `rejected`: missing"), "{e}");
    let e = error(
        IMPLICIT,
        r#"{"chosen": "\n\nHuman: q\n\nAssistant: yes", "rejected": "other"}"#,
    );
    assert!(
        e.contains("field `chosen`: the transcripts share no"),
        "{e}"
    );
    let e = error(
        IMPLICIT,
        r#"{"chosen": "Preface\n\nHuman: q\n\nAssistant: a", "rejected": "Preface\n\nHuman: q\n\nAssistant: b"}"#,
    );
    assert!(
        e.contains("field `chosen`: expected the transcript to start"),
        "{e}"
    );
    let e = error(
        IMPLICIT,
        r#"{"chosen": "\n\nHuman: q\n\nAssistant: a\n\nHuman: r\n\nAssistant: s", "rejected": "\n\nHuman: q\n\nAssistant: b"}"#,
    );
    assert!(
        e.contains("field `chosen`: the transcripts differ before"),
        "{e}"
    );
}

#[test]
fn malformed_rankings_name_file_line_and_field() {
    let cases = [
        (
            r#"{"prompt": "q", "completions": ["a"], "ranking": [0]}"#,
            "field `completions`: 1 completions; expected 2 to 9",
        ),
        (
            r#"{"prompt": "q", "completions": ["a","b","c","d","e","f","g","h","i","j"], "ranking": [0,1,2,3,4,5,6,7,8,9]}"#,
            "field `completions`: 10 completions",
        ),
        (
            r#"{"prompt": "q", "completions": ["a", 2], "ranking": [0, 1]}"#,
            "field `completions[1]`: expected a string, found a number",
        ),
        (
            r#"{"prompt": "q", "completions": ["a", "b"]}"#,
            "field `ranking`: missing",
        ),
        (
            r#"{"prompt": "q", "completions": ["a", "b"], "ranking": [0]}"#,
            "field `ranking`: 1 entries for 2 completions",
        ),
        (
            r#"{"prompt": "q", "completions": ["a", "b"], "ranking": [0, 0]}"#,
            "field `ranking[1]`: index 0 appears twice",
        ),
        (
            r#"{"prompt": "q", "completions": ["a", "b"], "ranking": [0, 5]}"#,
            "field `ranking[1]`: index 5 out of range",
        ),
        (
            r#"{"prompt": "q", "completions": ["a", "b"], "ranking": [0, -1]}"#,
            "field `ranking[1]`: expected a non-negative integer",
        ),
        (
            r#"{"completions": ["a", "b"], "ranking": [0, 1]}"#,
            "field `prompt`: missing",
        ),
    ];
    for (bad, want) in cases {
        let e = error(RANKING, bad);
        assert!(e.contains(want), "{bad}: {e}");
    }
}
