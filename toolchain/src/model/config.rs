//! `config.json` of a Hugging Face llama checkpoint (the `LlamaConfig` keys transformers
//! reads), and its link to the project's model configs and GGUF hyperparameters.

use serde::{Deserialize, Serialize};

use crate::gguf::llama::{FileType, LlamaParams};
use crate::init_random::ModelConfig;

/// The subset of transformers' `LlamaConfig` a mote model uses; written with the keys
/// transformers needs to load the directory as `LlamaForCausalLM`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlamaConfig {
    #[serde(default = "default_architectures")]
    pub architectures: Vec<String>,
    #[serde(default = "default_model_type")]
    pub model_type: String,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    #[serde(default)]
    pub num_key_value_heads: Option<usize>,
    pub vocab_size: usize,
    #[serde(default = "default_ctx")]
    pub max_position_embeddings: usize,
    #[serde(default = "default_eps")]
    pub rms_norm_eps: f64,
    #[serde(default = "default_theta")]
    pub rope_theta: f64,
    #[serde(default)]
    pub tie_word_embeddings: bool,
    #[serde(default = "default_bos")]
    pub bos_token_id: u32,
    #[serde(default = "default_eos")]
    pub eos_token_id: u32,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    #[serde(default)]
    pub attention_bias: bool,
    #[serde(default)]
    pub mlp_bias: bool,
    #[serde(default = "default_dtype")]
    pub torch_dtype: String,
    /// `general.name` of exported files.
    #[serde(default = "default_name")]
    pub mote_name: String,
    /// A reward model's affine normalisation of its raw score (`gain · raw + bias`), set so
    /// that the SFT model's samples score mean 0 and std 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward_normalization: Option<RewardNorm>,
}

/// `reward = gain · raw + bias`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RewardNorm {
    pub gain: f64,
    pub bias: f64,
}

fn default_architectures() -> Vec<String> {
    vec!["LlamaForCausalLM".into()]
}
fn default_model_type() -> String {
    "llama".into()
}
fn default_ctx() -> usize {
    2048
}
fn default_eps() -> f64 {
    1e-5
}
fn default_theta() -> f64 {
    10_000.0
}
fn default_bos() -> u32 {
    1
}
fn default_eos() -> u32 {
    2
}
fn default_act() -> String {
    "silu".into()
}
fn default_dtype() -> String {
    "float32".into()
}
fn default_name() -> String {
    "mote".into()
}

impl LlamaConfig {
    /// The checkpoint config of a model config file.
    pub fn from_model_config(c: &ModelConfig) -> Self {
        LlamaConfig {
            architectures: default_architectures(),
            model_type: default_model_type(),
            hidden_size: c.dim,
            intermediate_size: c.hidden,
            num_hidden_layers: c.n_layers,
            num_attention_heads: c.n_heads,
            num_key_value_heads: Some(c.kv_heads()),
            vocab_size: c.vocab,
            max_position_embeddings: c.ctx,
            rms_norm_eps: f64::from(c.rms_eps),
            rope_theta: f64::from(c.rope_base),
            tie_word_embeddings: c.tied,
            bos_token_id: default_bos(),
            eos_token_id: default_eos(),
            hidden_act: default_act(),
            attention_bias: false,
            mlp_bias: false,
            torch_dtype: default_dtype(),
            mote_name: c.name.clone(),
            reward_normalization: None,
        }
    }

    /// The model config with this geometry (validated by the caller).
    pub fn model_config(&self) -> ModelConfig {
        ModelConfig {
            name: self.mote_name.clone(),
            dim: self.hidden_size,
            n_layers: self.num_hidden_layers,
            n_heads: self.num_attention_heads,
            n_kv_heads: Some(self.kv_heads()),
            hidden: self.intermediate_size,
            vocab: self.vocab_size,
            ctx: self.max_position_embeddings,
            tied: self.tie_word_embeddings,
            rope_base: self.rope_theta as f32,
            rms_eps: self.rms_norm_eps as f32,
        }
    }

    /// Check what mote supports: the shapes its runtime runs, no biases, SiLU.
    pub fn validate(&self) -> Result<(), String> {
        self.model_config().validate().map_err(|e| e.to_string())?;
        if self.attention_bias || self.mlp_bias {
            return Err("biases in attention or MLP are not supported".into());
        }
        if self.hidden_act != "silu" {
            return Err(format!(
                "hidden_act {:?}: only \"silu\" is supported",
                self.hidden_act
            ));
        }
        if self.model_type != "llama" {
            return Err(format!("model_type {:?}: only \"llama\"", self.model_type));
        }
        Ok(())
    }

    pub fn kv_heads(&self) -> usize {
        self.num_key_value_heads.unwrap_or(self.num_attention_heads)
    }

    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }

    /// GGUF hyperparameters for a file of this model.
    pub fn llama_params(&self, file_type: FileType) -> LlamaParams {
        let mut p = self
            .model_config()
            .llama_params(crate::quantize::Quant::F32);
        p.file_type = file_type;
        p
    }

    /// Weights of the language model (norms included, heads other than LM excluded).
    pub fn n_params(&self) -> u64 {
        self.model_config().n_params()
    }
}
