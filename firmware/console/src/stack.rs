//! The board's stack, for `/stats`.

/// How much of its stack a board has used, measured by the board (e.g. by painting the
/// stack at reset and finding where the paint ends).
pub trait StackGauge {
    /// The most bytes of the stack in use at any time so far (the high-water mark).
    fn used(&self) -> usize;
    /// Bytes of stack the board reserves.
    fn size(&self) -> usize;
}
