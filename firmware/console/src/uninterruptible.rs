//! An adapter for serial ports that cannot say whether input is waiting.

use embedded_io::{ErrorType, Read, ReadReady, Write};

/// Wraps a port without `ReadReady`: it reports no pending input, so replies always run to
/// their end and Ctrl-C only clears the line being typed.
pub struct Uninterruptible<S>(pub S);

impl<S: ErrorType> ErrorType for Uninterruptible<S> {
    type Error = S::Error;
}

impl<S: Read> Read for Uninterruptible<S> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, S::Error> {
        self.0.read(buf)
    }
}

impl<S: Write> Write for Uninterruptible<S> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, S::Error> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> Result<(), S::Error> {
        self.0.flush()
    }
}

impl<S: ErrorType> ReadReady for Uninterruptible<S> {
    fn read_ready(&mut self) -> Result<bool, S::Error> {
        Ok(false)
    }
}
