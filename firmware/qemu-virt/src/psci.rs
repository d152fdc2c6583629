//! Power off through PSCI, which QEMU's `virt` implements with the HVC conduit (when EL2 and
//! EL3 are absent, as here): QEMU exits.

use core::arch::asm;

const SYSTEM_OFF: u32 = 0x8400_0008;

pub fn system_off() -> ! {
    // SAFETY: PSCI SYSTEM_OFF does not return on success; it touches no memory of ours.
    unsafe { asm!("hvc #0", in("x0") SYSTEM_OFF as u64, options(nomem, nostack)) };
    // Without PSCI (other hypervisors or hardware): stop here.
    loop {
        // SAFETY: `wfe` only waits for an event.
        unsafe { asm!("wfe", options(nomem, nostack)) };
    }
}
