//! Host library behind the `mote` CLI.
