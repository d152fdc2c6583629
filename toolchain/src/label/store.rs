//! Every labeler's files and progress. On start (and for a labeler seen for the first
//! time) the state is rebuilt from the files alone, so a restarted server resumes where
//! each labeler stopped.
//!
//! A labeler's next item is the first, in file order, they have neither ranked nor
//! skipped; when only skipped ones are left, the first of those. Undo removes the
//! labeler's record with the highest `seq`, whichever file holds it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{Map, Value};

use super::error::{LabelError, LabelResult};
use super::items::{fnv1a, Item, Items};
use super::journal::{create_dir, Journal};
use super::labeler::Labeler;
use super::records::{self, Kind, Stamp};
use crate::data::Rng;
use crate::error::Error;

/// One record in a labeler's history.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Done {
    pub seq: u64,
    pub kind: Kind,
    pub id: String,
}

/// How far a labeler is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Progress {
    /// Items of the samples file this labeler ranked.
    pub done: usize,
    /// Items skipped and not ranked since.
    pub skipped: usize,
    pub total: usize,
}

/// An answer as the page shows it: its index in the samples file and its text.
#[derive(Clone, Debug, Serialize)]
pub struct Answer<'a> {
    pub index: usize,
    pub text: &'a str,
    /// False when generation stopped at the token limit, before the end of the turn.
    pub ended: bool,
}

/// An item as one labeler sees it: answers in an order of their own.
#[derive(Clone, Debug, Serialize)]
pub struct ItemView<'a> {
    pub id: &'a str,
    pub line: usize,
    pub system: Option<&'a str>,
    pub prompt: &'a str,
    pub answers: Vec<Answer<'a>>,
    pub ranked: bool,
    pub skipped: bool,
    pub demos: usize,
    pub critiques: usize,
}

/// What the page shows next.
#[derive(Clone, Debug, Serialize)]
pub struct View<'a> {
    pub labeler: &'a str,
    pub progress: Progress,
    pub item: Option<ItemView<'a>>,
}

struct LabelerFiles {
    journals: HashMap<Kind, Journal>,
    history: Vec<Done>,
    ranked: HashSet<String>,
    /// Skip records per item (an item can be skipped again after a revisit).
    skipped: HashMap<String, usize>,
    demos: HashMap<String, usize>,
    critiques: HashMap<String, usize>,
}

fn bump(m: &mut HashMap<String, usize>, id: &str, up: bool) {
    if up {
        *m.entry(id.to_string()).or_default() += 1;
    } else if let Some(n) = m.get_mut(id) {
        *n -= 1;
        if *n == 0 {
            m.remove(id);
        }
    }
}

impl LabelerFiles {
    fn open(dir: &Path) -> LabelResult<Self> {
        let mut files = LabelerFiles {
            journals: HashMap::new(),
            history: Vec::new(),
            ranked: HashSet::new(),
            skipped: HashMap::new(),
            demos: HashMap::new(),
            critiques: HashMap::new(),
        };
        for kind in Kind::ALL {
            let path = dir.join(kind.file_name());
            let opened = Journal::open(&path)?;
            for e in opened.entries {
                let field = |name: &str| {
                    Error::data(&path, e.line, Some(name), "missing or of the wrong type")
                };
                let seq = e.fields.get("seq").and_then(Value::as_u64);
                let seq = seq.ok_or_else(|| field("seq"))?;
                let id = e.fields.get("id").and_then(Value::as_str);
                let id = id.ok_or_else(|| field("id"))?.to_string();
                files.history.push(Done { seq, kind, id });
            }
            files.journals.insert(kind, opened.journal);
        }
        files.history.sort_by_key(|d| d.seq);
        if let Some(w) = files.history.windows(2).find(|w| w[0].seq == w[1].seq) {
            return Err(LabelError::Config(format!(
                "{}: two records have seq {}; the files were edited by hand",
                dir.display(),
                w[0].seq
            )));
        }
        for d in files.history.clone() {
            files.count(&d, true);
        }
        Ok(files)
    }

    fn count(&mut self, d: &Done, up: bool) {
        match d.kind {
            Kind::Ranking if up => {
                self.ranked.insert(d.id.clone());
            }
            Kind::Ranking => {
                self.ranked.remove(&d.id);
            }
            Kind::Skip => bump(&mut self.skipped, &d.id, up),
            Kind::Demo => bump(&mut self.demos, &d.id, up),
            Kind::Critique => bump(&mut self.critiques, &d.id, up),
        }
    }

    fn next_seq(&self) -> u64 {
        self.history.last().map_or(1, |d| d.seq + 1)
    }
}

/// All labelers' files under one output directory.
pub struct Store {
    items: Items,
    out: PathBuf,
    labelers: BTreeMap<Labeler, LabelerFiles>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Store {
    /// Create `out` if needed and open every labeler directory already in it.
    pub fn open(items: Items, out: &Path) -> LabelResult<Self> {
        create_dir(out)?;
        let mut store = Store {
            items,
            out: out.to_path_buf(),
            labelers: BTreeMap::new(),
        };
        for name in existing_labelers(out)? {
            store.load(&name)?;
        }
        Ok(store)
    }

    pub fn items(&self) -> &Items {
        &self.items
    }

    pub fn labelers(&self) -> impl Iterator<Item = &Labeler> {
        self.labelers.keys()
    }

    /// Read a labeler's files the first time they are needed.
    fn load(&mut self, who: &Labeler) -> LabelResult<&LabelerFiles> {
        if !self.labelers.contains_key(who) {
            let files = LabelerFiles::open(&self.out.join(who.as_str()))?;
            self.labelers.insert(who.clone(), files);
        }
        Ok(&self.labelers[who])
    }

    fn files(&mut self, who: &Labeler) -> LabelResult<&mut LabelerFiles> {
        self.load(who)?;
        Ok(self.labelers.get_mut(who).expect("loaded"))
    }

    fn item(&self, id: &str) -> LabelResult<&Item> {
        self.items
            .get(id)
            .ok_or_else(|| LabelError::UnknownItem(id.chars().take(64).collect()))
    }

    pub fn progress(&mut self, who: &Labeler) -> LabelResult<Progress> {
        self.load(who)?;
        let (items, f) = (&self.items, &self.labelers[who]);
        let total = items.len();
        let done = f.ranked.iter().filter(|id| items.get(id).is_some()).count();
        let skipped = f
            .skipped
            .keys()
            .filter(|id| !f.ranked.contains(*id) && items.get(id).is_some())
            .count();
        Ok(Progress {
            done,
            skipped,
            total,
        })
    }

    /// The item the labeler should see next, if any is left.
    pub fn next_id(&mut self, who: &Labeler) -> LabelResult<Option<String>> {
        self.load(who)?;
        let (items, f) = (&self.items, &self.labelers[who]);
        let open = |i: &&Item| !f.ranked.contains(&i.id);
        let fresh = items
            .items
            .iter()
            .filter(open)
            .find(|i| !f.skipped.contains_key(&i.id));
        let any = || items.items.iter().find(open);
        Ok(fresh.or_else(any).map(|i| i.id.clone()))
    }

    /// The page's view of item `id` (or of the next item) for a labeler.
    pub fn view<'s>(&'s mut self, who: &'s Labeler, id: Option<&str>) -> LabelResult<View<'s>> {
        let id = match id {
            Some(id) => Some(self.item(id)?.id.clone()),
            None => self.next_id(who)?,
        };
        let progress = self.progress(who)?;
        let f = &self.labelers[who];
        let item = match id {
            Some(id) => {
                let item = self.items.get(&id).expect("checked");
                Some(ItemView {
                    id: &item.id,
                    line: item.line,
                    system: item.system.as_deref(),
                    prompt: &item.prompt,
                    answers: display_order(who, item)
                        .into_iter()
                        .map(|index| Answer {
                            index,
                            text: &item.completions[index],
                            ended: item.ended[index],
                        })
                        .collect(),
                    ranked: f.ranked.contains(&item.id),
                    skipped: f.skipped.contains_key(&item.id),
                    demos: f.demos.get(&item.id).copied().unwrap_or(0),
                    critiques: f.critiques.get(&item.id).copied().unwrap_or(0),
                })
            }
            None => None,
        };
        Ok(View {
            labeler: who.as_str(),
            progress,
            item,
        })
    }

    /// Write one record for item `id`: `build` makes it from the item and its stamp.
    fn write(
        &mut self,
        who: &Labeler,
        kind: Kind,
        id: &str,
        build: impl FnOnce(&Item, &Stamp) -> LabelResult<Map<String, Value>>,
    ) -> LabelResult<()> {
        let item = self.item(id)?.clone();
        let dir = self.out.join(who.as_str());
        let f = self.files(who)?;
        if kind == Kind::Ranking && f.ranked.contains(id) {
            return Err(LabelError::Conflict(
                "this item is ranked already; undo to rank it again".into(),
            ));
        }
        let seq = f.next_seq();
        let stamp = Stamp {
            id: &item.id,
            labeler: who.as_str(),
            seq,
            time: now(),
        };
        let record = build(&item, &stamp)?;
        create_dir(&dir)?;
        f.journals[&kind].append(&record)?;
        let done = Done {
            seq,
            kind,
            id: item.id.clone(),
        };
        f.count(&done, true);
        f.history.push(done);
        Ok(())
    }

    pub fn rank(&mut self, who: &Labeler, id: &str, ranking: &Value) -> LabelResult<()> {
        self.write(who, Kind::Ranking, id, |item, stamp| {
            records::ranking(item, ranking, stamp)
        })
    }

    pub fn demo(
        &mut self,
        who: &Labeler,
        id: &str,
        completion: &str,
        corrects: Option<usize>,
    ) -> LabelResult<()> {
        self.write(who, Kind::Demo, id, |item, stamp| {
            records::demo(item, completion, corrects, stamp)
        })
    }

    pub fn critique(
        &mut self,
        who: &Labeler,
        id: &str,
        index: usize,
        text: &str,
    ) -> LabelResult<()> {
        self.write(who, Kind::Critique, id, |item, stamp| {
            records::critique(item, index, text, stamp)
        })
    }

    pub fn skip(&mut self, who: &Labeler, id: &str) -> LabelResult<()> {
        self.write(who, Kind::Skip, id, |_, stamp| Ok(records::skip(stamp)))
    }

    /// Take back the labeler's last record; returns what it was.
    pub fn undo(&mut self, who: &Labeler) -> LabelResult<Done> {
        let f = self.files(who)?;
        let last = f.history.last().cloned().ok_or(LabelError::NothingToUndo)?;
        let journal = &f.journals[&last.kind];
        // The last record of the labeler is the last line of its file, as files only grow;
        // check before removing, in case the file was edited meanwhile.
        let tail = Journal::open(journal.path())?.entries.pop();
        let tail_seq = tail.and_then(|e| e.fields.get("seq").and_then(Value::as_u64));
        if tail_seq != Some(last.seq) {
            return Err(LabelError::Conflict(format!(
                "{} changed outside the server; restart it to reread the files",
                journal.path().display()
            )));
        }
        journal.pop()?;
        f.history.pop();
        f.count(&last, false);
        Ok(last)
    }
}

/// The valid labeler names among `out`'s subdirectories.
pub fn existing_labelers(out: &Path) -> LabelResult<Vec<Labeler>> {
    let mut names = Vec::new();
    let entries = match std::fs::read_dir(out) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(names),
        Err(e) => return Err(Error::io(out, e).into()),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(out, e))?;
        if !entry.file_type().map_err(|e| Error::io(out, e))?.is_dir() {
            continue;
        }
        if let Some(name) = entry.file_name().to_str() {
            if let Ok(l) = Labeler::new(name) {
                names.push(l);
            }
        }
    }
    names.sort();
    Ok(names)
}

/// The order a labeler sees an item's answers in: shuffled, so the sampling order (and
/// position) does not suggest a ranking, but the same on every visit.
pub fn display_order(who: &Labeler, item: &Item) -> Vec<usize> {
    let mut rng = Rng::new(&[fnv1a(who.as_str().as_bytes()), fnv1a(item.id.as_bytes())]);
    let mut order: Vec<usize> = (0..item.completions.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i + 1));
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::label::items::read_items;
    use serde_json::json;

    fn setup() -> (tempfile::TempDir, Items) {
        let dir = tempfile::tempdir().unwrap();
        let samples = dir.path().join("s.jsonl");
        let lines: Vec<String> = (0..3)
            .map(|i| json!({"prompt": format!("q{i}"), "completions": ["a", "b", "c"]}).to_string())
            .collect();
        std::fs::write(&samples, lines.join("\n")).unwrap();
        let items = read_items(&samples).unwrap();
        (dir, items)
    }

    #[test]
    fn resumes_from_the_files_and_undoes_across_them() {
        let (dir, items) = setup();
        let ids: Vec<String> = items.items.iter().map(|i| i.id.clone()).collect();
        let out = dir.path().join("out");
        let ann = Labeler::new("ann").unwrap();
        {
            let mut s = Store::open(items.clone(), &out).unwrap();
            assert_eq!(s.next_id(&ann).unwrap().as_deref(), Some(ids[0].as_str()));
            s.skip(&ann, &ids[0]).unwrap();
            s.rank(&ann, &ids[1], &json!([0, [1, 2]])).unwrap();
            s.demo(&ann, &ids[2], "d", None).unwrap();
            assert!(matches!(
                s.rank(&ann, &ids[1], &json!([0, 1, 2])),
                Err(LabelError::Conflict(_))
            ));
            assert!(matches!(
                s.rank(&ann, "nope", &json!([0, 1, 2])),
                Err(LabelError::UnknownItem(_))
            ));
        }
        let mut s = Store::open(items.clone(), &out).unwrap();
        assert_eq!(s.labelers().count(), 1);
        assert_eq!(
            s.progress(&ann).unwrap(),
            Progress {
                done: 1,
                skipped: 1,
                total: 3
            }
        );
        assert_eq!(s.next_id(&ann).unwrap().as_deref(), Some(ids[2].as_str()));
        let v = s.view(&ann, None).unwrap();
        assert_eq!(v.item.as_ref().unwrap().demos, 1);
        assert_eq!(s.undo(&ann).unwrap().kind, Kind::Demo);
        assert_eq!(s.undo(&ann).unwrap().kind, Kind::Ranking);
        assert_eq!(s.progress(&ann).unwrap().done, 0);
        s.rank(&ann, &ids[2], &json!([2, 1, 0])).unwrap();
        s.rank(&ann, &ids[1], &json!([1, 0, 2])).unwrap();
        // Only the skipped item is left.
        assert_eq!(s.next_id(&ann).unwrap().as_deref(), Some(ids[0].as_str()));
        let ann_dir = out.join("ann");
        let lines = |f: &str| {
            std::fs::read_to_string(ann_dir.join(f))
                .unwrap()
                .lines()
                .count()
        };
        assert_eq!(
            (
                lines("rankings.jsonl"),
                lines("demos.jsonl"),
                lines("skips.jsonl")
            ),
            (2, 0, 1)
        );
        let seqs: Vec<u64> = s.labelers[&ann].history.iter().map(|d| d.seq).collect();
        assert_eq!(seqs, [1, 2, 3]);
    }

    #[test]
    fn display_order_is_a_stable_permutation() {
        let (_dir, items) = setup();
        let ann = Labeler::new("ann").unwrap();
        let o = display_order(&ann, &items.items[0]);
        assert_eq!(o, display_order(&ann, &items.items[0]));
        let mut sorted = o.clone();
        sorted.sort();
        assert_eq!(sorted, [0, 1, 2]);
    }
}
