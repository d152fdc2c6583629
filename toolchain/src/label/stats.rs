//! `mote label stats`: what each labeler wrote, and how often labelers agree.
//!
//! Agreement is counted as `mote annotate --agreement` counts it: over the items two
//! labelers both ranked, pair by pair of answers, the share of pairs they order the same
//! way. A pair either of them tied has no order to compare; those are counted apart.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use super::error::LabelResult;
use super::items::item_id;
use super::journal::Entry;
use super::labeler::Labeler;
use super::records::Kind;
use super::store::existing_labelers;
use crate::data::preferences::parse_preference;
use crate::data::Record;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LabelerCounts {
    pub labeler: String,
    pub rankings: usize,
    /// Rankings with at least one tie.
    pub with_ties: usize,
    /// Demonstrations written from scratch.
    pub demos: usize,
    /// Demonstrations that correct an answer.
    pub corrections: usize,
    pub critiques: usize,
    pub skips: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Agreement {
    pub a: String,
    pub b: String,
    /// Items both ranked.
    pub shared: usize,
    /// Answer pairs both ordered.
    pub pairs: usize,
    /// Of those, ordered the same way.
    pub agree: usize,
    /// Pairs one tied and the other ordered.
    pub one_tied: usize,
}

impl Agreement {
    pub fn rate(&self) -> f64 {
        self.agree as f64 / self.pairs.max(1) as f64
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LabelStats {
    pub labelers: Vec<LabelerCounts>,
    /// One entry per pair of labelers with an item in common.
    pub agreement: Vec<Agreement>,
    /// All pairs of all labeler pairs together.
    pub overall: Agreement,
}

/// Item id → tier of each answer (by its index in the samples file).
type Tiers = BTreeMap<String, Vec<usize>>;

/// The tier of each completion index of a valid ranking record.
fn tiers_of(entry: &Entry, path: &Path) -> LabelResult<(String, Vec<usize>)> {
    let rec = Record {
        path: Arc::from(path),
        line: entry.line,
        fields: entry.fields.clone(),
    };
    parse_preference(&rec)?;
    let completions: Vec<String> = rec
        .array("completions")?
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect();
    let id = item_id(rec.opt_str("system")?, rec.str("prompt")?, &completions);
    let mut tiers = vec![0; completions.len()];
    for (tier, v) in rec.array("ranking")?.iter().enumerate() {
        let group = v.as_array().map_or(std::slice::from_ref(v), Vec::as_slice);
        for i in group.iter().filter_map(Value::as_u64) {
            tiers[i as usize] = tier;
        }
    }
    Ok((id, tiers))
}

fn compare(a: &Tiers, b: &Tiers, out: &mut Agreement) {
    for (id, ta) in a {
        let Some(tb) = b.get(id).filter(|tb| tb.len() == ta.len()) else {
            continue;
        };
        out.shared += 1;
        for i in 0..ta.len() {
            for j in i + 1..ta.len() {
                let (oa, ob) = (ta[i].cmp(&ta[j]), tb[i].cmp(&tb[j]));
                match (oa.is_eq(), ob.is_eq()) {
                    (false, false) => {
                        out.pairs += 1;
                        out.agree += usize::from(oa == ob);
                    }
                    (true, true) => {}
                    _ => out.one_tied += 1,
                }
            }
        }
    }
}

/// Counts and agreement over every labeler directory in `dir`.
pub fn label_stats(dir: &Path) -> LabelResult<LabelStats> {
    let mut stats = LabelStats::default();
    let mut rankings: Vec<(Labeler, Tiers)> = Vec::new();
    for who in existing_labelers(dir)? {
        let sub = dir.join(who.as_str());
        let mut c = LabelerCounts {
            labeler: who.to_string(),
            ..Default::default()
        };
        let mut tiers = Tiers::new();
        for kind in Kind::ALL {
            let path = sub.join(kind.file_name());
            if !path.exists() {
                continue;
            }
            let entries = read_only(&path)?;
            match kind {
                Kind::Ranking => {
                    for e in &entries {
                        let (id, t) = tiers_of(e, &path)?;
                        c.with_ties += usize::from(has_tie(&t));
                        // A later ranking of the same item replaces the earlier one.
                        tiers.insert(id, t);
                    }
                    c.rankings = entries.len();
                }
                Kind::Demo => {
                    c.corrections = entries
                        .iter()
                        .filter(|e| e.fields.contains_key("original"))
                        .count();
                    c.demos = entries.len() - c.corrections;
                }
                Kind::Critique => c.critiques = entries.len(),
                Kind::Skip => c.skips = entries.len(),
            }
        }
        stats.labelers.push(c);
        rankings.push((who, tiers));
    }
    stats.overall.a = "all".into();
    stats.overall.b = "all".into();
    for (i, (a, ta)) in rankings.iter().enumerate() {
        for (b, tb) in &rankings[i + 1..] {
            let mut g = Agreement {
                a: a.to_string(),
                b: b.to_string(),
                ..Default::default()
            };
            compare(ta, tb, &mut g);
            if g.shared > 0 {
                stats.overall.shared += g.shared;
                stats.overall.pairs += g.pairs;
                stats.overall.agree += g.agree;
                stats.overall.one_tied += g.one_tied;
                stats.agreement.push(g);
            }
        }
    }
    Ok(stats)
}

fn has_tie(tiers: &[usize]) -> bool {
    let mut t = tiers.to_vec();
    t.sort_unstable();
    t.windows(2).any(|w| w[0] == w[1])
}

/// A journal's records, without repairing anything (stats never write).
fn read_only(path: &Path) -> LabelResult<Vec<Entry>> {
    let text = std::fs::read_to_string(path).map_err(|e| crate::Error::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(Value::Object(fields)) => out.push(Entry {
                line: i + 1,
                fields,
            }),
            // An unfinished last line is a write a crash cut; the server drops it too.
            Err(_) if i + 1 == text.lines().count() && !text.ends_with('\n') => {}
            _ => return Err(crate::Error::data(path, i + 1, None, "not a JSON object").into()),
        }
    }
    Ok(out)
}

impl fmt::Display for LabelStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<16} {:>8} {:>6} {:>6} {:>11} {:>9} {:>6}",
            "labeler", "rankings", "ties", "demos", "corrections", "critiques", "skips"
        )?;
        for c in &self.labelers {
            writeln!(
                f,
                "{:<16} {:>8} {:>6} {:>6} {:>11} {:>9} {:>6}",
                c.labeler, c.rankings, c.with_ties, c.demos, c.corrections, c.critiques, c.skips
            )?;
        }
        if self.agreement.is_empty() {
            return writeln!(
                f,
                "\nno item ranked by two labelers: no agreement to measure"
            );
        }
        writeln!(f, "\npairwise agreement on shared items")?;
        for g in self.agreement.iter().chain([&self.overall]) {
            writeln!(
                f,
                "{:<16} {:<16} {:.3} ({} of {} pairs over {} items; {} pairs tied by one)",
                g.a,
                g.b,
                g.rate(),
                g.agree,
                g.pairs,
                g.shared,
                g.one_tied
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write(dir: &Path, who: &str, file: &str, lines: &[Value]) {
        let d = dir.join(who);
        std::fs::create_dir_all(&d).unwrap();
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(d.join(file), text).unwrap();
    }

    #[test]
    fn counts_and_agreement() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let r = |prompt: &str, ranking: Value| json!({"prompt": prompt, "completions": ["a", "b", "c"], "ranking": ranking});
        write(
            d,
            "ann",
            "rankings.jsonl",
            &[r("p", json!([0, 1, 2])), r("q", json!([0, 1, 2]))],
        );
        // bob: p agrees on (0,1), (0,2), disagrees on (1,2); q ties 1 and 2.
        write(
            d,
            "bob",
            "rankings.jsonl",
            &[r("p", json!([0, 2, 1])), r("q", json!([0, [1, 2]]))],
        );
        write(
            d,
            "bob",
            "demos.jsonl",
            &[
                json!({"prompt": "p", "completion": "x"}),
                json!({"prompt": "p", "completion": "y", "original": {"index": 0, "completion": "a"}}),
            ],
        );
        write(d, "cy", "skips.jsonl", &[json!({"id": "x"})]);
        std::fs::create_dir(d.join("not a name")).unwrap();
        let s = label_stats(d).unwrap();
        let names: Vec<_> = s.labelers.iter().map(|c| c.labeler.as_str()).collect();
        assert_eq!(names, ["ann", "bob", "cy"]);
        assert_eq!((s.labelers[1].rankings, s.labelers[1].with_ties), (2, 1));
        assert_eq!((s.labelers[1].demos, s.labelers[1].corrections), (1, 1));
        assert_eq!(s.labelers[2].skips, 1);
        assert_eq!(s.agreement.len(), 1);
        let g = &s.agreement[0];
        assert_eq!((g.shared, g.pairs, g.agree, g.one_tied), (2, 5, 4, 1));
        assert_eq!(s.overall.pairs, 5);
        let text = s.to_string();
        assert!(
            text.contains("ann              bob              0.800"),
            "{text}"
        );
    }
}
