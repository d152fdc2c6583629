//! The serial chat console for mote boards (built out in the firmware work).
#![no_std]
