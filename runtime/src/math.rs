//! Scalar float functions: `libm` without std, the platform's with it.

#[cfg(feature = "std")]
mod imp {
    #[inline]
    pub fn expf(x: f32) -> f32 {
        x.exp()
    }
    #[inline]
    pub fn sqrtf(x: f32) -> f32 {
        x.sqrt()
    }
    #[inline]
    pub fn powf(x: f32, y: f32) -> f32 {
        x.powf(y)
    }
    #[inline]
    pub fn cosf(x: f32) -> f32 {
        x.cos()
    }
    #[inline]
    pub fn sinf(x: f32) -> f32 {
        x.sin()
    }
}

#[cfg(not(feature = "std"))]
mod imp {
    pub use libm::{cosf, expf, powf, sinf, sqrtf};
}

pub use imp::*;
