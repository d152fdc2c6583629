//! The board's end of the link: a serial device (a USB-serial adapter, a QEMU pty) through
//! `serialport`, or a TCP connection to QEMU's `-serial tcp:…,server`.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use super::ConsoleError;

/// How long a read waits before the reading thread looks at its stop flag again.
pub const READ_TICK: Duration = Duration::from_millis(100);
/// How long a write may wait for the board to take bytes before it counts as an error.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause between two connection attempts while waiting for the board.
const RETRY: Duration = Duration::from_millis(200);

/// Where the board is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortSpec {
    /// A serial device path: `/dev/ttyACM0`, `/dev/ttyUSB0`, `/dev/pts/3`.
    Device(PathBuf),
    /// `tcp:HOST:PORT`, or `tcp:PORT` for 127.0.0.1.
    Tcp { host: String, port: u16 },
}

impl FromStr for PortSpec {
    type Err = ConsoleError;

    fn from_str(s: &str) -> Result<Self, ConsoleError> {
        let bad = || ConsoleError::BadPort(s.to_string());
        let Some(rest) = s.strip_prefix("tcp:") else {
            return if s.is_empty() {
                Err(bad())
            } else {
                Ok(PortSpec::Device(PathBuf::from(s)))
            };
        };
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => (host.trim_matches(|c| c == '[' || c == ']'), port),
            None => ("127.0.0.1", rest),
        };
        let port = port.parse().map_err(|_| bad())?;
        if host.is_empty() {
            return Err(bad());
        }
        Ok(PortSpec::Tcp {
            host: host.to_string(),
            port,
        })
    }
}

impl fmt::Display for PortSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortSpec::Device(p) => write!(f, "{}", p.display()),
            PortSpec::Tcp { host, port } if host.contains(':') => write!(f, "tcp:[{host}]:{port}"),
            PortSpec::Tcp { host, port } => write!(f, "tcp:{host}:{port}"),
        }
    }
}

/// An open connection to the board, as two halves: the reading one goes to a thread of
/// its own. Reads time out after [`READ_TICK`] (`TimedOut` or `WouldBlock`).
pub struct Link {
    pub name: String,
    pub reader: Box<dyn Read + Send>,
    pub writer: Box<dyn Write + Send>,
}

/// Open `spec`, trying again for up to `wait` while the device does not exist yet or
/// nothing listens on the TCP port (`mote flash` may still be building the image).
pub fn connect(spec: &PortSpec, baud: u32, wait: Duration) -> Result<Link, ConsoleError> {
    let deadline = Instant::now() + wait;
    loop {
        let result = match spec {
            PortSpec::Device(path) => open_device(path, baud),
            PortSpec::Tcp { host, port } => open_tcp(host, *port),
        };
        match result {
            Ok((reader, writer)) => {
                return Ok(Link {
                    name: spec.to_string(),
                    reader,
                    writer,
                })
            }
            Err(e) if not_there_yet(&e) && Instant::now() < deadline => std::thread::sleep(RETRY),
            Err(error) => {
                return Err(ConsoleError::Connect {
                    port: spec.to_string(),
                    error,
                })
            }
        }
    }
}

type Halves = (Box<dyn Read + Send>, Box<dyn Write + Send>);

fn not_there_yet(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
    )
}

/// 8N1, no flow control (the boards' UARTs), raw (`serialport` sets the line discipline
/// to raw, so a pty's echo and line editing stay off).
fn open_device(path: &std::path::Path, baud: u32) -> io::Result<Halves> {
    let reader = serialport::new(path.to_string_lossy(), baud)
        .timeout(READ_TICK)
        .open_native()?;
    let mut writer = reader.try_clone_native()?;
    serialport::SerialPort::set_timeout(&mut writer, WRITE_TIMEOUT)?;
    Ok((Box::new(reader), Box::new(writer)))
}

fn open_tcp(host: &str, port: u16) -> io::Result<Halves> {
    let mut last = None;
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
            Ok(stream) => {
                // Keystrokes go out one by one, at once.
                stream.set_nodelay(true)?;
                stream.set_read_timeout(Some(READ_TICK))?;
                stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
                let writer = stream.try_clone()?;
                return Ok((Box::new(stream), Box::new(writer)));
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_names() {
        let tcp = |host: &str, port| PortSpec::Tcp {
            host: host.into(),
            port,
        };
        assert_eq!(
            "tcp:4444".parse::<PortSpec>().unwrap(),
            tcp("127.0.0.1", 4444)
        );
        assert_eq!(
            "tcp:localhost:4444".parse::<PortSpec>().unwrap(),
            tcp("localhost", 4444)
        );
        assert_eq!("tcp:[::1]:80".parse::<PortSpec>().unwrap(), tcp("::1", 80));
        assert_eq!(tcp("::1", 80).to_string(), "tcp:[::1]:80");
        assert_eq!(
            "/dev/pts/3".parse::<PortSpec>().unwrap(),
            PortSpec::Device("/dev/pts/3".into())
        );
        for bad in ["", "tcp:", "tcp:x", "tcp:70000", "tcp::4444"] {
            assert!(bad.parse::<PortSpec>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_missing_device_fails_after_the_wait() {
        let spec = PortSpec::Device("/dev/no-such-tty-for-mote".into());
        let start = Instant::now();
        let e = connect(&spec, 115_200, Duration::from_millis(300))
            .err()
            .unwrap();
        assert!(start.elapsed() >= Duration::from_millis(300));
        assert!(
            e.to_string().starts_with("/dev/no-such-tty-for-mote: "),
            "{e}"
        );
    }
}
