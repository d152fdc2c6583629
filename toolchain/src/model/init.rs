//! Deterministic initialisation: the same seed gives the same weights on every machine.

use candle_core::{Device, Result, Tensor, Var};
use candle_nn::VarMap;

use super::config::LlamaConfig;
use super::llama::Heads;
use crate::init_random::{NormalStream, INIT_STD};

/// A `VarMap` holding freshly initialised weights for `cfg` and `heads`, with HF names:
/// matrices normal with std 0.02, the two projections back into the residual stream scaled
/// by `1/sqrt(2·layers)`, norms 1, the value head's bias 0.
pub fn init_weights(cfg: &LlamaConfig, heads: Heads, seed: u64, dev: &Device) -> Result<VarMap> {
    let vm = VarMap::new();
    init_missing(&vm, cfg, heads, seed, dev)?;
    Ok(vm)
}

/// Add to `vm` the weights of `cfg` and `heads` it lacks (e.g. a reward head on top of a
/// language model), initialised as [`init_weights`] would.
pub fn init_missing(
    vm: &VarMap,
    cfg: &LlamaConfig,
    heads: Heads,
    seed: u64,
    dev: &Device,
) -> Result<()> {
    let (d, kvd, f, v) = (
        cfg.hidden_size,
        cfg.kv_heads() * cfg.head_dim(),
        cfg.intermediate_size,
        cfg.vocab_size,
    );
    let residual = INIT_STD / (2.0 * cfg.num_hidden_layers as f32).sqrt();
    // (name, shape, None = ones | Some(std); 0 = zeros)
    let mut specs: Vec<(String, Vec<usize>, Option<f32>)> = vec![(
        "model.embed_tokens.weight".into(),
        vec![v, d],
        Some(INIT_STD),
    )];
    for l in 0..cfg.num_hidden_layers {
        let p = |s: &str| format!("model.layers.{l}.{s}");
        specs.extend([
            (p("input_layernorm.weight"), vec![d], None),
            (p("self_attn.q_proj.weight"), vec![d, d], Some(INIT_STD)),
            (p("self_attn.k_proj.weight"), vec![kvd, d], Some(INIT_STD)),
            (p("self_attn.v_proj.weight"), vec![kvd, d], Some(INIT_STD)),
            (p("self_attn.o_proj.weight"), vec![d, d], Some(residual)),
            (p("post_attention_layernorm.weight"), vec![d], None),
            (p("mlp.gate_proj.weight"), vec![f, d], Some(INIT_STD)),
            (p("mlp.up_proj.weight"), vec![f, d], Some(INIT_STD)),
            (p("mlp.down_proj.weight"), vec![d, f], Some(residual)),
        ]);
    }
    specs.push(("model.norm.weight".into(), vec![d], None));
    if heads.lm && !cfg.tie_word_embeddings {
        specs.push(("lm_head.weight".into(), vec![v, d], Some(INIT_STD)));
    }
    if heads.reward {
        specs.push(("score.weight".into(), vec![1, d], Some(INIT_STD)));
    }
    if heads.value {
        specs.push(("value_head.weight".into(), vec![1, d], Some(INIT_STD)));
        specs.push(("value_head.bias".into(), vec![1], Some(0.0)));
    }
    {
        let mut data = vm
            .data()
            .lock()
            .map_err(|_| candle_core::Error::Msg("poisoned".into()))?;
        for (name, shape, std) in specs {
            if data.contains_key(&name) {
                continue;
            }
            let n: usize = shape.iter().product();
            let mut vals = vec![1.0f32; n];
            match std {
                None => {}
                Some(0.0) => vals.fill(0.0),
                Some(s) => NormalStream::new(seed, &name).fill(&mut vals, s),
            }
            let t = Tensor::from_vec(vals, shape, dev)?;
            data.insert(name, Var::from_tensor(&t)?);
        }
    }
    Ok(())
}
