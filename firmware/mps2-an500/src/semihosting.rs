//! Ending the QEMU run: semihosting SYS_EXIT (needs `qemu-system-arm -semihosting`).

use core::arch::asm;

const SYS_EXIT: u32 = 0x18;
/// ADP_Stopped_ApplicationExit: QEMU exits with status 0; any other reason exits with 1.
const APPLICATION_EXIT: u32 = 0x2_0026;
const RUN_TIME_ERROR: u32 = 0x2_0023;

pub fn exit(ok: bool) -> ! {
    let reason = if ok { APPLICATION_EXIT } else { RUN_TIME_ERROR };
    // SAFETY: BKPT 0xAB is the M-profile semihosting call; SYS_EXIT takes its reason in r1
    // and does not return under QEMU. Without a debugger or `-semihosting` it faults, and
    // the fault handler stops the core.
    unsafe { asm!("bkpt #0xab", in("r0") SYS_EXIT, in("r1") reason, options(nomem, nostack)) };
    loop {
        cortex_m::asm::wfi();
    }
}
