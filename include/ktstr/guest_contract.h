/* The text contract between ktstr-guest (PID 1 in the VM) and the host side
 * (ktstr-vmm-worker, ktstr-orch, ktstr-initramfs-builder): every marker the
 * guest prints on COM2 that a host parser looks for, every kernel
 * command-line key one side writes and the other reads, and every path in
 * the initramfs both sides name. Both ends include this header, so a string
 * cannot drift on one side only. The binary channel, the SHM ring, has its
 * own contract in ktstr/ring.h.
 *
 * Each entry says who writes it, who reads it and why it exists. Tests keep
 * literal copies on purpose: they pin the wire format, so a change here that
 * breaks deployed guests or hosts shows up as a failing test.
 *
 * COM2 is raw in the guest (guest/report.c clears OPOST), so markers arrive
 * byte-exact; host scanners still accept a "\r\n" ending where noted,
 * because an interactive shell turns ONLCR back on. */
#ifndef KTSTR_GUEST_CONTRACT_H
#define KTSTR_GUEST_CONTRACT_H

/* ---- the guest's output port --------------------------------------------
 * Both engines put the output UART at 0x2f8 (COM2), which Linux names
 * ttyS1; COM1 (ttyS0) is the kernel console (console=ttyS0,
 * vmm-worker/cmdline.c). Written: the engines' UART layout. Read: the
 * guest, which opens it for every line below. */
#define KTSTR_GUEST_COM2_DEV "/dev/ttyS1"

/* arm64 guests (docs/aarch64.md, "Per engine"): the QEMU engine's virt
 * machine has one non-secure UART, a PL011 (ttyAMA0), which is the kernel
 * console; the guest's output port is a virtio console (virtio-serial on
 * the generic PCIe host the device tree describes), which Linux names hvc0.
 * Written: vmm-worker's arm64 QEMU command line and device tree. Read: the
 * arm64 ktstr-guest (GUEST_OUTPUT_DEV in guest/report.h, chosen by the
 * architecture it is compiled for) and vmm-worker/cmdline.c. */
#define KTSTR_GUEST_CONSOLE_ARM64 "ttyAMA0"
#define KTSTR_GUEST_COM2_DEV_ARM64 "/dev/hvc0"

/* ---- COM2 lines (guest writes, host reads) ------------------------------ */

/* First line PID 1 prints, as soon as COM2 is open (guest/main.c). The
 * worker stamps the time it first sees it (boot-to-init, vmm-worker/
 * capture.c); the verdict tells "init never started" from later failures
 * by its absence (orchestrator/verdict.c). Matched anywhere in a line. */
#define KTSTR_COM2_INIT_STARTED "KTSTR_INIT_STARTED"

/* Printed once mounts, spec and scheduler are up, just before the scenario
 * (guest/main.c). Its absence after KTSTR_COM2_INIT_STARTED makes the
 * verdict "payload never ran" (orchestrator/verdict.c). */
#define KTSTR_COM2_PAYLOAD_STARTING "KTSTR_PAYLOAD_STARTING"

/* The TestResult, base64 of its packed protobuf, on the lines between these
 * two (guest/report.c). The fallback when the SHM ring is off or corrupt:
 * orchestrator/verdict.c decodes the text between the first pair. */
#define KTSTR_COM2_RESULT_START "===KTSTR_TEST_RESULT_START==="
#define KTSTR_COM2_RESULT_END "===KTSTR_TEST_RESULT_END==="

/* The scheduler's log tail, verbatim between these two lines
 * (guest/main.c; the end marker follows a "\n" so it starts a line even
 * when the log does not end in one). orchestrator/report.c takes the block
 * from the COM2 capture for a failure report when no TestResult carried
 * the log (the ring was off or lost). */
#define KTSTR_COM2_SCHED_START "===SCHED_OUTPUT_START==="
#define KTSTR_COM2_SCHED_END "===SCHED_OUTPUT_END==="

/* The scheduler died during the test (guest/main.c, guest/scenario.c).
 * orchestrator/verdict.c gives SCHED_DIED when it sees this line and no
 * ring result said otherwise. */
#define KTSTR_COM2_SCHED_DIED "SCHEDULER_DIED"
/* The scheduler never attached; the rest of the line, ": <why>", is the
 * reason (guest/main.c). orchestrator/verdict.c quotes that line as the
 * verdict's detail. */
#define KTSTR_COM2_SCHED_NOT_ATTACHED "SCHEDULER_NOT_ATTACHED"

/* "KTSTR_EXIT=<decimal i32>\n": the guest's exit status, last thing before
 * power-off, in every mode (guest/report.c; the ring's EXIT message says
 * the same and wins). The worker takes it from any COM2 line holding it
 * (vmm-worker/capture.c) into VmResult.guest_exit_code; `ktstr-orch shell
 * --exec` expects it as the second line of the exec trailer
 * (orchestrator/shell_exec.c). */
#define KTSTR_COM2_EXIT "KTSTR_EXIT="

/* "\nKTSTR_EXEC_EXIT=<decimal>\n": `shell --exec`'s command status
 * (guest/shell.c). The leading newline ends a last output line that lacks
 * one; the host (orchestrator/shell_exec.c) recognises the pair
 * "\n" KTSTR_COM2_EXEC_EXIT "N\n" KTSTR_COM2_EXIT "N\n" only as the exact end
 * of the stream and drops it, so the command's output stays verbatim. */
#define KTSTR_COM2_EXEC_EXIT "KTSTR_EXEC_EXIT="

/* Interactive shell handshake: the guest writes this exact line once the
 * shell's terminal (COM2 as controlling tty) is set up (guest/shell.c).
 * Bytes sent before then can be lost to the guest's UART/tty setup, so the
 * worker holds the user's stdin back until it sees the line at the start of
 * a line, ending "\n" or "\r\n", and strips that first one from what the
 * user sees (vmm-worker/capture.c; engines gate stdin on
 * capture_shell_ready()). */
#define KTSTR_COM2_SHELL_READY "KTSTR_SHELL_READY"

/* ---- kernel command line (host writes, guest reads) ---------------------
 * The kernel hands KEY=value words it does not know to PID 1 as environment
 * variables too, so the guest reads these with getenv() first and falls
 * back to /proc/cmdline. */

/* Guest-physical base and size of the SHM ring, hex with 0x
 * (vmm-worker/cmdline.c writes "KTSTR_SHM_BASE=0x... KTSTR_SHM_SIZE=0x...";
 * guest/shm.c, guest/report.c read). Size 0 or the words missing: no ring,
 * the guest reports through COM2 only. */
#define KTSTR_CMDLINE_SHM_BASE "KTSTR_SHM_BASE"
#define KTSTR_CMDLINE_SHM_SIZE "KTSTR_SHM_SIZE"

/* The guest's output port where it is not the architecture's default
 * (GUEST_OUTPUT_DEV: ttyS1 on x86_64, hvc0 on arm64): the device's name
 * under /dev, one of the two ports above ("ttyS1", "hvc0"); anything else
 * is refused and the default used (guest/report.c, report_output_dev).
 * Written: an engine whose output port differs (the arm64 KVM engine's is
 * its second 16550, ttyS1: it has no virtio console). An engine cannot
 * leave the choice to the guest probing devices: an 8250 port without
 * hardware still opens and swallows what is written. */
#define KTSTR_CMDLINE_OUTPUT_PORT "KTSTR_OUTPUT_PORT"

/* A whole word a user may put in a suite's kernel arguments to make the
 * guest ignore the ring and report through COM2 only (guest/main.c;
 * docs/guest.md). The host never writes it. */
#define KTSTR_CMDLINE_RING_OFF "ktstr.ring=off"

/* Marks a `ktstr-orch shell` VM's command line (orchestrator/cmd_shell.c
 * via VmSpec.cmdline_extra). The guest takes its mode from the GuestSpec,
 * not from this word; it is there for whoever reads /proc/cmdline or the
 * worker's QEMU argv. */
#define KTSTR_CMDLINE_SHELL_MODE "KTSTR_MODE=shell"

/* ---- initramfs paths (host packs, guest opens) -------------------------- */

/* Written last into every base image by the builder (initramfs-builder/
 * plan.h); PID 1 refuses to run a test when it is missing, because a
 * truncated image would otherwise fail in some unrelated way
 * (guest/main.c: TRUNCATED_IMAGE). */
#define KTSTR_INITRD_OK_PATH "/.ktstr_init_ok"

/* The per-test GuestSpec, a packed ktstr.GuestSpec, in the small cpio the
 * orchestrator appends to the base image (orchestrator/spec_build.c);
 * guest/spec.c loads it. */
#define KTSTR_INITRD_SPEC_DIR "/ktstr"
#define KTSTR_INITRD_SPEC_PATH KTSTR_INITRD_SPEC_DIR "/spec.pb"

/* C tests (docs/c-api.md): the guest runs a C test binary as
 * `BINARY KTSTR_CTEST_RUN_ARG FUNCTION`; the binary writes the function's
 * TestResult (packed, at most KTSTR_CTEST_RESULT_MAX bytes) to
 * KTSTR_CTEST_RESULT_PATH and exits 0. Any other ending (an exit status, a
 * signal, the timeout) is judged as a payload's, with its output tail. */
#define KTSTR_CTEST_RUN_ARG "--ktstr-guest-run"
#define KTSTR_CTEST_RESULT_PATH "/tmp/ktstr-ctest-result.pb"
#define KTSTR_CTEST_RESULT_MAX (1u << 20)

/* Coverage of C tests (docs/c-api.md, "Coverage"; ktstr/covmsg.h has the
 * PROFRAW message). With CTestSpec.coverage the guest runs the binary with
 * GCOV_PREFIX=KTSTR_COV_PREFIX and GCOV_PREFIX_STRIP=0, so gcc's runtime
 * writes each .gcda at exit to KTSTR_COV_PREFIX + its absolute build path
 * (and LLVM_PROFILE_FILE for clang's, KTSTR_COV_PROFRAW);
 * PID 1 then sends every regular file under KTSTR_COV_PREFIX, within these
 * bounds (what is over one is named in a note message, never lost
 * silently). KTSTR_COV_TOTAL_MAX stays well inside the worker's ring keep
 * budget (vmm-worker/capture.h CAPTURE_KEEP_BYTES, 16 MiB). */
#define KTSTR_COV_PREFIX "/tmp/ktstr-cov"
/* clang's -fprofile-instr-generate runtime writes here instead
 * (LLVM_PROFILE_FILE, %p: the process id), below the prefix too. */
#define KTSTR_COV_PROFRAW "/ktstr-%p.profraw"
#define KTSTR_COV_FILES_MAX 256u
#define KTSTR_COV_FILE_MAX (1u << 20)
#define KTSTR_COV_TOTAL_MAX (8u << 20)
#define KTSTR_COV_PATH_MAX 1024u /* bytes of the path below the prefix */
#define KTSTR_COV_DEPTH_MAX 32u	 /* directory levels walked */
#define KTSTR_COV_ENTRIES_MAX 4096u /* directory entries looked at, in all */

#endif
