//! Row kernels of the fused ops, compiled twice: for the baseline x86-64 target and with
//! AVX2+FMA, chosen at run time. Sums use a fixed number of lanes in a fixed order, so
//! both versions (and any thread count) give the same bits.

/// Defines `pub(super) fn $name` that runs `$body` compiled with AVX2+FMA when the CPU
/// has them, and as compiled for the baseline target otherwise.
macro_rules! kernel {
    ($(#[$m:meta])* fn $name:ident($($a:ident: $t:ty),* $(,)?) $(-> $r:ty)? $body:block) => {
        $(#[$m])*
        pub(super) fn $name($($a: $t),*) $(-> $r)? {
            #[inline(always)]
            fn generic($($a: $t),*) $(-> $r)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                fn avx2($($a: $t),*) $(-> $r)? {
                    generic($($a),*)
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: the CPU has AVX2 and FMA, checked just above.
                    return unsafe { avx2($($a),*) };
                }
            }
            generic($($a),*)
        }
    };
}

const LANES: usize = 16;

/// `e^x` in f32 without a libm call, so loops over it vectorize: Cody–Waite reduction to
/// `r ∈ [−ln2/2, ln2/2]`, a degree-6 Taylor polynomial (relative error < 2e-7), and the
/// exponent put together in the bits. Below −87.3 it gives 0; NaN stays NaN.
#[inline(always)]
pub(super) fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    // 1.5 · 2^23: adding it rounds to an integer, which then sits in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    let c = x.clamp(-87.3, 88.0);
    let t = c * LOG2E + ROUND;
    let n = t - ROUND;
    let r = c - n * LN2_HI - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    let ni = t.to_bits() as i32 - ROUND.to_bits() as i32;
    let y = p * f32::from_bits(((ni + 127) << 23) as u32);
    if x < -87.3 {
        0.0
    } else if x.is_nan() {
        x
    } else {
        y
    }
}

#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

#[inline(always)]
fn lanes_sum(acc: [f32; LANES]) -> f32 {
    acc.iter().sum()
}

kernel! {
    /// Σ a∘b
    fn dot(a: &[f32], b: &[f32]) -> f32 {
        let mut acc = [0f32; LANES];
        let (ac, bc) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
        let (ar, br) = (ac.remainder(), bc.remainder());
        for (a, b) in ac.zip(bc) {
            for i in 0..LANES {
                acc[i] += a[i] * b[i];
            }
        }
        for (i, (a, b)) in ar.iter().zip(br).enumerate() {
            acc[i] += a * b;
        }
        lanes_sum(acc)
    }
}

kernel! {
    /// Σ a∘b∘c
    fn dot3(a: &[f32], b: &[f32], c: &[f32]) -> f32 {
        let mut acc = [0f32; LANES];
        let n = a.len().min(b.len()).min(c.len());
        let full = n / LANES * LANES;
        for j in (0..full).step_by(LANES) {
            for i in 0..LANES {
                acc[i] += a[j + i] * b[j + i] * c[j + i];
            }
        }
        for j in full..n {
            acc[j - full] += a[j] * b[j] * c[j];
        }
        lanes_sum(acc)
    }
}

kernel! {
    /// max of x (−∞ for an empty slice)
    fn max(x: &[f32]) -> f32 {
        let mut acc = [f32::NEG_INFINITY; LANES];
        let xc = x.chunks_exact(LANES);
        let xr = xc.remainder();
        for x in xc {
            for i in 0..LANES {
                acc[i] = acc[i].max(x[i]);
            }
        }
        for (i, &x) in xr.iter().enumerate() {
            acc[i] = acc[i].max(x);
        }
        acc.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v))
    }
}

kernel! {
    /// y = e^(x·scale − shift); returns Σ y.
    fn exp_sum(y: &mut [f32], x: &[f32], scale: f32, shift: f32) -> f32 {
        for (y, &x) in y.iter_mut().zip(x) {
            *y = exp(x * scale - shift);
        }
        let mut acc = [0f32; LANES];
        let yc = y.chunks_exact(LANES);
        let yr = yc.remainder();
        for y in yc {
            for i in 0..LANES {
                acc[i] += y[i];
            }
        }
        for (i, &y) in yr.iter().enumerate() {
            acc[i] += y;
        }
        lanes_sum(acc)
    }
}

kernel! {
    /// Σ e^(x − shift), without storing the terms.
    fn exp_sum_only(x: &[f32], shift: f32) -> f32 {
        let mut acc = [0f32; LANES];
        let xc = x.chunks_exact(LANES);
        let xr = xc.remainder();
        for x in xc {
            for i in 0..LANES {
                acc[i] += exp(x[i] - shift);
            }
        }
        for (i, &x) in xr.iter().enumerate() {
            acc[i] += exp(x - shift);
        }
        lanes_sum(acc)
    }
}

kernel! {
    /// y = a · e^(x − shift)
    fn scaled_exp(y: &mut [f32], x: &[f32], a: f32, shift: f32) {
        for (y, &x) in y.iter_mut().zip(x) {
            *y = a * exp(x - shift);
        }
    }
}

kernel! {
    /// y ·= s
    fn scale(y: &mut [f32], s: f32) {
        y.iter_mut().for_each(|y| *y *= s);
    }
}

kernel! {
    /// y = x · inv · w
    fn norm_row(y: &mut [f32], x: &[f32], w: &[f32], inv: f32) {
        for ((y, &x), &w) in y.iter_mut().zip(x).zip(w) {
            *y = x * inv * w;
        }
    }
}

kernel! {
    /// dx = inv · g·w − c · x
    fn norm_dx_row(dx: &mut [f32], x: &[f32], g: &[f32], w: &[f32], inv: f32, c: f32) {
        for (((dx, &x), &g), &w) in dx.iter_mut().zip(x).zip(g).zip(w) {
            *dx = inv * g * w - c * x;
        }
    }
}

kernel! {
    /// acc += g·x·inv
    fn norm_dw_row(acc: &mut [f32], x: &[f32], g: &[f32], inv: f32) {
        for ((a, &x), &g) in acc.iter_mut().zip(x).zip(g) {
            *a += g * x * inv;
        }
    }
}

kernel! {
    /// ds = scale · y·(g − dot)
    fn softmax_grad_row(ds: &mut [f32], y: &[f32], g: &[f32], scale: f32, dot: f32) {
        for ((ds, &y), &g) in ds.iter_mut().zip(y).zip(g) {
            *ds = scale * y * (g - dot);
        }
    }
}

kernel! {
    /// y = silu(g) · u
    fn swiglu(y: &mut [f32], g: &[f32], u: &[f32]) {
        for ((y, &g), &u) in y.iter_mut().zip(g).zip(u) {
            *y = g * sigmoid(g) * u;
        }
    }
}

kernel! {
    /// dg = dy · u · σ(g)·(1 + g·(1 − σ(g)))
    fn swiglu_dgate(dg: &mut [f32], g: &[f32], u: &[f32], dy: &[f32]) {
        for (((dg, &g), &u), &dy) in dg.iter_mut().zip(g).zip(u).zip(dy) {
            let s = sigmoid(g);
            *dg = dy * u * s * (1.0 + g * (1.0 - s));
        }
    }
}

kernel! {
    /// Rotate-half RoPE of one head: y₁ = x₁c − x₂s, y₂ = x₂c + x₁s (s negated by `sign`).
    fn rope_row(y: &mut [f32], x: &[f32], c: &[f32], s: &[f32], sign: f32) {
        let half = x.len() / 2;
        let (y1, y2) = y.split_at_mut(half);
        let (x1, x2) = x.split_at(half);
        let (c1, c2) = c.split_at(half);
        let (s1, s2) = s.split_at(half);
        for i in 0..half {
            y1[i] = x1[i] * c1[i] + -x2[i] * (sign * s1[i]);
            y2[i] = x2[i] * c2[i] + x1[i] * (sign * s2[i]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_accurate_and_handles_the_edges() {
        let mut worst = 0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let want = (x as f64).exp();
            worst = worst.max(((exp(x) as f64 - want) / want).abs());
            x += 0.013;
        }
        assert!(worst < 3e-7, "relative error {worst}");
        assert_eq!(exp(-100.0), 0.0);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert!(exp(f32::NAN).is_nan());
        assert_eq!(exp(0.0), 1.0);
    }

    #[test]
    fn sums_are_exact_on_integers() {
        let a: Vec<f32> = (0..37).map(|i| i as f32).collect();
        assert_eq!(dot(&a, &a), (0..37).map(|i| (i * i) as f32).sum::<f32>());
        assert_eq!(
            dot3(&a, &a, &a),
            (0..37).map(|i| (i * i * i) as f32).sum::<f32>()
        );
        assert_eq!(max(&a), 36.0);
        let mut y = vec![0f32; 37];
        assert!((exp_sum(&mut y, &a, 0.0, 0.0) - 37.0).abs() < 1e-5);
        let want: f64 = (0..37).map(|i| ((i - 36) as f64).exp()).sum();
        assert!((exp_sum_only(&a, 36.0) as f64 - want).abs() < 1e-6 * want);
    }
}
