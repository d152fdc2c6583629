//! Generalised advantage estimation and advantage whitening.

/// Advantages and returns of one response by GAE: `δ_t = r_t + γ·V_{t+1} − V_t`,
/// `A_t = δ_t + γλ·A_{t+1}`, with the value after the last token 0 (the episode ends);
/// returns are `A_t + V_t`.
pub fn gae(rewards: &[f32], values: &[f32], gamma: f32, lambda: f32) -> (Vec<f32>, Vec<f32>) {
    assert_eq!(rewards.len(), values.len(), "one value per reward");
    let n = rewards.len();
    let mut adv = vec![0.0f32; n];
    let mut next_adv = 0.0f32;
    for t in (0..n).rev() {
        let next_v = if t + 1 < n { values[t + 1] } else { 0.0 };
        let delta = rewards[t] + gamma * next_v - values[t];
        next_adv = delta + gamma * lambda * next_adv;
        adv[t] = next_adv;
    }
    let returns = adv.iter().zip(values).map(|(a, v)| a + v).collect();
    (adv, returns)
}

/// Whitens every value of `rows` together: mean 0, std 1 (population std, in f64); a
/// constant set becomes all zeros.
pub fn whiten(rows: &mut [Vec<f32>]) {
    let n: usize = rows.iter().map(Vec::len).sum();
    if n == 0 {
        return;
    }
    let mean = rows.iter().flatten().map(|&x| x as f64).sum::<f64>() / n as f64;
    let var = rows
        .iter()
        .flatten()
        .map(|&x| (x as f64 - mean).powi(2))
        .sum::<f64>()
        / n as f64;
    let inv = 1.0 / (var.sqrt() + 1e-8);
    for x in rows.iter_mut().flatten() {
        *x = ((*x as f64 - mean) * inv) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gae_matches_hand_computed() {
        // γ = 1, λ = 0.5; rewards [0, 0, 1], values [0.5, 0.2, 0.4].
        // δ = [0 + 0.2 − 0.5, 0 + 0.4 − 0.2, 1 + 0 − 0.4] = [−0.3, 0.2, 0.6]
        // A2 = 0.6; A1 = 0.2 + 0.5·0.6 = 0.5; A0 = −0.3 + 0.5·0.5 = −0.05
        let (a, r) = gae(&[0.0, 0.0, 1.0], &[0.5, 0.2, 0.4], 1.0, 0.5);
        let close = |x: &[f32], y: &[f32]| x.iter().zip(y).all(|(a, b)| (a - b).abs() < 1e-6);
        assert!(close(&a, &[-0.05, 0.5, 0.6]), "{a:?}");
        assert!(close(&r, &[0.45, 0.7, 1.0]), "{r:?}");
        // λ = 1: returns are the reward-to-go.
        let (_, r) = gae(&[1.0, 2.0, 3.0], &[9.0, -4.0, 0.5], 1.0, 1.0);
        assert!(close(&r, &[6.0, 5.0, 3.0]), "{r:?}");
    }

    #[test]
    fn whitening_over_all_rows() {
        let mut rows = vec![vec![1.0, 3.0], vec![5.0], vec![]];
        whiten(&mut rows);
        // mean 3, population std √(8/3).
        let s = (8.0f32 / 3.0).sqrt();
        assert!((rows[0][0] + 2.0 / s).abs() < 1e-5);
        assert!(rows[0][1].abs() < 1e-6);
        assert!((rows[1][0] - 2.0 / s).abs() < 1e-5);
        let mut flat = vec![vec![2.0, 2.0]];
        whiten(&mut flat);
        assert_eq!(flat, vec![vec![0.0, 0.0]]);
    }
}
