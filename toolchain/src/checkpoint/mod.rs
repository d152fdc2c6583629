//! Checkpoints as Hugging Face directories: `config.json` (LlamaConfig keys),
//! `model.safetensors` (HF tensor names, q/k rows in HF's rotate-half order) and
//! `tokenizer.json`. transformers loads them as `LlamaForCausalLM`.

pub mod atomic;

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{VarBuilder, VarMap};

use crate::error::{Error, Result};
use crate::model::{Heads, Llama, LlamaConfig};

pub const CONFIG_FILE: &str = "config.json";
pub const WEIGHTS_FILE: &str = "model.safetensors";
pub const TOKENIZER_FILE: &str = "tokenizer.json";

/// A model's config, weights and tokenizer, in memory.
pub struct Checkpoint {
    pub config: LlamaConfig,
    /// Every weight, trainable, under its HF name.
    pub weights: VarMap,
    /// The `tokenizer.json` bytes, when the checkpoint has one.
    pub tokenizer_json: Option<Vec<u8>>,
}

impl Checkpoint {
    /// Read a checkpoint directory: config, weights (converted to f32) and tokenizer.
    pub fn load(dir: &Path, dev: &Device) -> Result<Self> {
        let cfg_path = dir.join(CONFIG_FILE);
        let text = fs::read_to_string(&cfg_path).map_err(|e| Error::io(&cfg_path, e))?;
        let config: LlamaConfig = serde_json::from_str(&text)
            .map_err(|e| Error::checkpoint(&cfg_path, format!("line {}: {e}", e.line())))?;
        config
            .validate()
            .map_err(|what| Error::checkpoint(&cfg_path, what))?;
        let w_path = dir.join(WEIGHTS_FILE);
        if !w_path.is_file() {
            return Err(Error::checkpoint(dir, format!("no {WEIGHTS_FILE}")));
        }
        let tensors = candle_core::safetensors::load(&w_path, dev)
            .map_err(|e| Error::checkpoint(&w_path, e.to_string()))?;
        let weights = VarMap::new();
        {
            let mut data = weights
                .data()
                .lock()
                .map_err(|_| Error::checkpoint(&w_path, "weights lock poisoned"))?;
            for (name, t) in tensors {
                // Older transformers save RoPE tables; they are recomputed.
                if name.ends_with("rotary_emb.inv_freq") {
                    continue;
                }
                let t = t.to_dtype(DType::F32)?;
                data.insert(name, Var::from_tensor(&t)?);
            }
        }
        check_shapes(&config, &weights, &w_path)?;
        let tok_path = dir.join(TOKENIZER_FILE);
        let tokenizer_json = if tok_path.is_file() {
            Some(fs::read(&tok_path).map_err(|e| Error::io(&tok_path, e))?)
        } else {
            None
        };
        Ok(Checkpoint {
            config,
            weights,
            tokenizer_json,
        })
    }

    /// Write the checkpoint into `dir` (created if needed), each file atomically; the config
    /// goes last, so a directory with a config has its weights.
    pub fn save(&self, dir: &Path) -> Result<()> {
        save_files(
            dir,
            &self.config,
            &self.weights,
            self.tokenizer_json.as_deref(),
        )
    }

    /// The model over these weights. Heads the checkpoint lacks are an error; add them first
    /// with [`crate::model::init_missing`].
    pub fn model(&self, heads: Heads) -> Result<Llama> {
        let names = self.names();
        let need = |n: &str| {
            if names.iter().any(|x| x == n) {
                Ok(())
            } else {
                Err(Error::checkpoint(
                    Path::new(WEIGHTS_FILE),
                    format!("no tensor {n:?}"),
                ))
            }
        };
        if heads.lm && !self.config.tie_word_embeddings {
            need("lm_head.weight")?;
        }
        if heads.reward {
            need("score.weight")?;
        }
        if heads.value {
            need("value_head.weight")?;
        }
        let dev = self.device()?;
        let vb = VarBuilder::from_varmap(&self.weights, DType::F32, &dev);
        Ok(Llama::new(&self.config, heads, vb)?)
    }

    /// The checkpoint's tokenizer (`dir` names it in errors).
    pub fn tokenizer(&self, dir: &Path) -> Result<tokenizers::Tokenizer> {
        let json = self
            .tokenizer_json
            .as_deref()
            .ok_or_else(|| Error::checkpoint(dir, "no tokenizer.json"))?;
        tokenizers::Tokenizer::from_bytes(json).map_err(|e| Error::Tokenizer(e.to_string()))
    }

    /// Names of the weights held.
    pub fn names(&self) -> Vec<String> {
        let data = self.weights.data().lock();
        data.map(|d| d.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The weight named `name`.
    pub fn tensor(&self, name: &str) -> Option<Tensor> {
        let data = self.weights.data().lock().ok()?;
        data.get(name).map(|v| v.as_tensor().clone())
    }

    fn device(&self) -> Result<Device> {
        Ok(self
            .tensor("model.embed_tokens.weight")
            .map(|t| t.device().clone())
            .unwrap_or(Device::Cpu))
    }
}

/// Write a checkpoint's files into `dir`: tokenizer, weights, then config.
pub fn save_files(
    dir: &Path,
    config: &LlamaConfig,
    weights: &VarMap,
    tokenizer_json: Option<&[u8]>,
) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    if let Some(tok) = tokenizer_json {
        atomic::write_bytes(&dir.join(TOKENIZER_FILE), tok)?;
    }
    let tensors: HashMap<String, Tensor> = {
        let data = weights
            .data()
            .lock()
            .map_err(|_| Error::checkpoint(dir, "weights lock poisoned"))?;
        data.iter()
            .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
            .collect()
    };
    let w_path = dir.join(WEIGHTS_FILE);
    atomic::write_with(&w_path, |tmp| {
        candle_core::safetensors::save(&tensors, tmp)
            .map_err(|e| Error::checkpoint(tmp, e.to_string()))
    })?;
    let json =
        serde_json::to_string_pretty(config).map_err(|e| Error::checkpoint(dir, e.to_string()))?;
    atomic::write_bytes(&dir.join(CONFIG_FILE), json.as_bytes())
}

/// Every tensor is one the config expects, with the expected shape; the language model's
/// own weights are all there.
fn check_shapes(c: &LlamaConfig, weights: &VarMap, path: &Path) -> Result<()> {
    let (d, kvd, f, v) = (
        c.hidden_size,
        c.kv_heads() * c.head_dim(),
        c.intermediate_size,
        c.vocab_size,
    );
    let mut expected: HashMap<String, Vec<usize>> = HashMap::new();
    expected.insert("model.embed_tokens.weight".into(), vec![v, d]);
    expected.insert("model.norm.weight".into(), vec![d]);
    let mut required: Vec<String> = expected.keys().cloned().collect();
    for l in 0..c.num_hidden_layers {
        for (s, shape) in [
            ("input_layernorm.weight", vec![d]),
            ("self_attn.q_proj.weight", vec![d, d]),
            ("self_attn.k_proj.weight", vec![kvd, d]),
            ("self_attn.v_proj.weight", vec![kvd, d]),
            ("self_attn.o_proj.weight", vec![d, d]),
            ("post_attention_layernorm.weight", vec![d]),
            ("mlp.gate_proj.weight", vec![f, d]),
            ("mlp.up_proj.weight", vec![f, d]),
            ("mlp.down_proj.weight", vec![d, f]),
        ] {
            let name = format!("model.layers.{l}.{s}");
            required.push(name.clone());
            expected.insert(name, shape);
        }
    }
    expected.insert("lm_head.weight".into(), vec![v, d]);
    expected.insert("score.weight".into(), vec![1, d]);
    expected.insert("value_head.weight".into(), vec![1, d]);
    expected.insert("value_head.bias".into(), vec![1]);
    let data = weights
        .data()
        .lock()
        .map_err(|_| Error::checkpoint(path, "weights lock poisoned"))?;
    for (name, var) in data.iter() {
        let Some(shape) = expected.get(name) else {
            return Err(Error::checkpoint(
                path,
                format!("unexpected tensor {name:?}"),
            ));
        };
        if var.as_tensor().dims() != shape.as_slice() {
            return Err(Error::checkpoint(
                path,
                format!(
                    "tensor {name:?} has shape {:?}, the config needs {shape:?}",
                    var.as_tensor().dims()
                ),
            ));
        }
    }
    if let Some(missing) = required.iter().find(|n| !data.contains_key(*n)) {
        return Err(Error::checkpoint(
            path,
            format!("missing tensor {missing:?}"),
        ));
    }
    Ok(())
}
