//! Prompt files (`{"prompt"}` or `{"messages"}` JSONL, DESIGN §5) rendered as ChatML
//! requests for an assistant turn; every other field of a line is kept (e.g. metadata).

use std::path::Path;

use serde_json::{Map, Value};

use crate::data::{for_each_record, Record};
use crate::error::Result;

use super::chatml_prompt;

/// One prompt: the ChatML text to continue and the whole original record.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub chatml: String,
    /// The user's last message (for display and reports).
    pub user: String,
    pub fields: Map<String, Value>,
}

fn check(rec: &Record, text: &str, field: &str) -> Result<()> {
    for delim in ["<|im_start|>", "<|im_end|>"] {
        if text.contains(delim) {
            return Err(rec.error(field, format!("contains the ChatML delimiter `{delim}`")));
        }
    }
    Ok(())
}

/// Read a prompts file. `system` is used for records that have no system turn.
pub fn read_prompts(path: &Path, system: Option<&str>) -> Result<Vec<Prompt>> {
    let mut out = Vec::new();
    for_each_record(path, |rec| {
        let (chatml, user) = if rec.has("messages") {
            let items = rec.array("messages")?;
            let mut text = String::new();
            let mut user = String::new();
            for (i, item) in items.iter().enumerate() {
                let label = format!("messages[{i}]");
                let obj = rec.as_object(item, &label)?;
                let role = rec.member_str(obj, "role", &label)?;
                if !matches!(role, "system" | "user" | "assistant") {
                    return Err(
                        rec.error(&format!("{label}.role"), format!("unknown role `{role}`"))
                    );
                }
                let content = rec.member_str(obj, "content", &label)?;
                check(&rec, content, &format!("{label}.content"))?;
                if i == 0 && role != "system" {
                    if let Some(sys) = system {
                        text.push_str(&format!("<|im_start|>system\n{sys}<|im_end|>\n"));
                    }
                }
                if role == "user" {
                    user = content.to_string();
                }
                text.push_str(&format!("<|im_start|>{role}\n{content}<|im_end|>\n"));
            }
            if items.is_empty() {
                return Err(rec.error("messages", "is empty"));
            }
            text.push_str("<|im_start|>assistant\n");
            (text, user)
        } else {
            let p = rec.str("prompt")?;
            check(&rec, p, "prompt")?;
            let sys = rec.opt_str("system")?.or(system);
            (chatml_prompt(sys, p), p.to_string())
        };
        out.push(Prompt {
            chatml,
            user,
            fields: rec.fields.clone(),
        });
        Ok(())
    })?;
    Ok(out)
}
