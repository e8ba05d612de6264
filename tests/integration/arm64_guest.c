/* The arm64 ktstr-guest ($(BUILD)/bin/arm64/ktstr-guest) as PID 1 of a real
 * Debian arm64 kernel under qemu-system-aarch64 (TCG), without the
 * orchestrator or the worker (as guest_qemu.c does for x86_64): the test
 * packs /init and /ktstr/spec.pb, boots with a file-backed RAM whose top
 * 16 MiB is the SHM ring (formatted here, as the host does), then reads the
 * ring from that file.
 *
 * arm64_guest/steady_on_ktstr_tree_passes_through_the_ring: ktstr's own
 * device tree (vmm-worker/arm64-guest/), so the ring is its
 * /reserved-memory no-map region, which the guest maps through /dev/mem as
 * Device memory (docs/aarch64.md, "The SHM ring on arm64"); the canned
 * steady scenario on EEVDF passes with the topology the tree gives, and the
 * result, stimuli and exit code arrive through the ring alone (that tree has
 * no PCIe host yet, so no /dev/hvc0: the guest's ring-only path).
 *
 * arm64_guest/output_port_is_hvc0: QEMU's own virt tree (with its PCIe host)
 * and a virtio console, so the guest's output port /dev/hvc0 exists (needs
 * CONFIG_VIRTIO_CONSOLE=y: Debian's 7.2 arm64 cloud kernel); mem= keeps the
 * ring's 16 MiB out of the kernel's RAM, which /dev/mem then maps as Device
 * memory too (outside the linear map, O_SYNC). The output port carries the
 * contract's lines and the ring the same exit code.
 *
 * Kernels: $KTSTR_CACHE_DIR/kernels/<release>-cloud-arm64/Image (`ktstr-orch
 * kernel fetch --arch arm64`), else $KTSTR_CACHE_DIR/arm64/kernels/<r>/Image
 * (scripts/fetch-arm64); the newest. Without a kernel, QEMU or the arm64
 * guest the tests skip here and fail under KTSTR_REQUIRE_VM=1. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arm64-guest/arm64_fdt.h"
#include "arm64-guest/arm64_layout.h"
#include "guest.pb-c.h"
#include "ktstr/cpio.h"
#include "ktstr/guest_contract.h"
#include "ktstr/le.h"
#include "ktstr/ring.h"
#include "ktstr/util.h"
#include "lib/ring_tally.h"
#include "lib/vmtest.h"
#include "qemu/qemu_arm64.h"
#include "scenario_catalog.h"

#define QEMU_AARCH64 "/usr/bin/qemu-system-aarch64"
#define MEM_BYTES (512ull << 20)
#define SHM_BYTES (16ull << 20)
#define SHM_OFF (MEM_BYTES - SHM_BYTES)		 /* in the RAM file */
#define SHM_BASE (ARM64_DRAM_BASE + SHM_OFF) /* guest physical */
/* A 2-vCPU boot with a 1.5 s scenario took under 90 s here; three times
 * that is a hang. */
#define BOOT_TIMEOUT_MS (300 * 1000)

struct boot {
	char dir[512];
	char *console, *hvc;
	struct ring_tally t; /* what the ring carried */
};

/* The newest arm64 kernel Image of the cache; *virtio_console: whether its
 * config beside it has CONFIG_VIRTIO_CONSOLE=y. */
static bool find_kernel(char *out, size_t len, bool *virtio_console)
{
	const char *cache = getenv("KTSTR_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"),
		   *home = getenv("HOME");
	const char *const pats[] = { "kernels/*-cloud-arm64/Image", "arm64/kernels/*/Image" };
	char dir[700], pat[800], cfg[1100], *text = NULL;
	size_t n;

	if (cache && *cache)
		snprintf(dir, sizeof(dir), "%s", cache);
	else if (xdg && *xdg)
		snprintf(dir, sizeof(dir), "%s/ktstr", xdg);
	else if (home && *home)
		snprintf(dir, sizeof(dir), "%s/.cache/ktstr", home);
	else
		return false;
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		glob_t g;

		snprintf(pat, sizeof(pat), "%s/%s", dir, pats[i]);
		if (glob(pat, 0, NULL, &g) == 0 && g.gl_pathc) {
			snprintf(out, len, "%s", g.gl_pathv[g.gl_pathc - 1]);
			globfree(&g);
			snprintf(cfg, sizeof(cfg), "%.*s/config", (int)(strrchr(out, '/') - out), out);
			*virtio_console = read_file(cfg, &text, &n, 1u << 20) == 0 &&
					  strstr(text, "\nCONFIG_VIRTIO_CONSOLE=y\n");
			free(text);
			return access(out, R_OK) == 0;
		}
		globfree(&g);
	}
	return false;
}

static void put_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write_full(fd, data, len), 0);
	close(fd);
}

/* /init (the arm64 guest), /ktstr/spec.pb, the init sentinel. */
static size_t make_initramfs(const char *guest, const Ktstr__GuestSpec *spec, const char *out)
{
	struct cpio_writer w;
	size_t len = ktstr__guest_spec__get_packed_size(spec), alen;
	uint8_t *pb = malloc(len + 1), *arch;
	int fd = open(guest, O_RDONLY | O_CLOEXEC);

	cr_assert_geq(fd, 0, "%s: %s", guest, strerror(errno));
	ktstr__guest_spec__pack(spec, pb);
	cpio_init(&w, 1);
	cr_assert_eq(cpio_add_dir(&w, KTSTR_INITRD_SPEC_DIR, 0755), 0);
	cr_assert_eq(cpio_add_file_fd(&w, "/init", 0755, fd, 64u << 20), 0);
	cr_assert_eq(cpio_add_file(&w, KTSTR_INITRD_SPEC_PATH, 0644, pb, len), 0);
	cr_assert_eq(cpio_add_file(&w, KTSTR_INITRD_OK_PATH, 0644, "", 0), 0);
	cr_assert_eq(cpio_finish(&w), 0);
	close(fd);
	cpio_take(&w, &arch, &alen);
	put_file(out, arch, alen);
	free(arch);
	free(pb);
	return alen;
}

static Ktstr__Topology topo_1121 = { PROTOBUF_C_MESSAGE_INIT(&ktstr__topology__descriptor),
				     1, 1, 2, 1 };

/* The canned steady scenario as the host expands it, for 1,1,2,1; TCG on a
 * shared 2-core host: gaps and spreads relaxed, starvation strict (as in
 * guest_qemu.c). Free *sc with protobuf_c_message_free_unpacked. */
static void spec_steady(Ktstr__GuestSpec *g, Ktstr__Scenario **sc, Ktstr__AssertSpec *a)
{
	char err[512] = "";

	ktstr__guest_spec__init(g);
	ktstr__assert_spec__init(a);
	cr_assert_eq(scenario_catalog_build("steady", sc, err, sizeof(err)), 0, "%s", err);
	g->mode = KTSTR__GUEST_SPEC__MODE__MODE_TEST;
	g->test_name = "steady";
	(*sc)->has_duration_ms = 1;
	(*sc)->duration_ms = 1500;
	(*sc)->has_settle_ms = 1;
	(*sc)->settle_ms = 200;
	g->scenario = *sc;
	g->topology = &topo_1121;
	a->has_max_gap_ms = 1;
	a->max_gap_ms = 60000;
	a->has_max_spread_pct = 1;
	a->max_spread_pct = 100;
	g->asserts = a;
}

/* Boot; ktstr_tree: ktstr's device tree (ring through /reserved-memory),
 * else QEMU's own with a virtio console (ring through mem=). */
static void boot(struct boot *b, const Ktstr__GuestSpec *spec, bool ktstr_tree)
{
	char guest[512], kernel[700], img[600], mem[600], dtb[600], con[600], hvc[600];
	char append[512], memobj[800], hvcdev[700];
	bool virtio_console = false;
	struct ktstr_ring ring;
	size_t ilen, n;
	void *map;
	int fd, st, rc;
	char *out = NULL;

	memset(b, 0, sizeof(*b));
	if (vmtest_bin("arm64/ktstr-guest", guest, sizeof(guest)))
		test_missing("$(BUILD)/bin/arm64/ktstr-guest not built (make all: the arm64 cross "
			     "toolchain, scripts/install-deps)");
	if (access(QEMU_AARCH64, X_OK))
		test_missing("needs %s (qemu-system-arm)", QEMU_AARCH64);
	if (!find_kernel(kernel, sizeof(kernel), &virtio_console))
		test_missing("no arm64 kernel in $KTSTR_CACHE_DIR (ktstr-orch kernel fetch --arch "
			     "arm64, or scripts/fetch-arm64)");
	if (!ktstr_tree && !virtio_console)
		test_missing("%s has no CONFIG_VIRTIO_CONSOLE=y (no /dev/hvc0 at PID 1): needs "
			     "Debian's 7.2 arm64 cloud kernel",
			     kernel);
	cr_assert_eq(vmtest_tmpdir(b->dir, sizeof(b->dir)), 0);
	snprintf(img, sizeof(img), "%s/initrd.cpio", b->dir);
	ilen = make_initramfs(guest, spec, img);

	/* The RAM file, with a formatted ring at the top (what the host does). */
	snprintf(mem, sizeof(mem), "%s/mem", b->dir);
	fd = open(mem, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)MEM_BYTES), 0);
	map = mmap(NULL, SHM_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)SHM_OFF);
	cr_assert_neq(map, MAP_FAILED);
	cr_assert_eq(ring_format(map, SHM_BYTES), 0);

	snprintf(append, sizeof(append),
		 "console=" KTSTR_GUEST_CONSOLE_ARM64 " panic=-1 rdinit=/init loglevel=4 "
		 "iomem=relaxed%s " KTSTR_CMDLINE_SHM_BASE "=0x%llx " KTSTR_CMDLINE_SHM_SIZE
		 "=0x%llx",
		 ktstr_tree ? "" : " mem=496M", (unsigned long long)SHM_BASE,
		 (unsigned long long)SHM_BYTES);
	if (ktstr_tree) {
		struct arm64_fdt_spec s = { .topo = { 1, 1, 2, 1 },
					    .mem_bytes = MEM_BYTES,
					    .shm_base = SHM_BASE,
					    .shm_size = SHM_BYTES,
					    .initrd_start = qemu_arm64_initrd_base(MEM_BYTES),
					    .bootargs = append,
					    .uart = ARM64_UART_PL011,
					    .psci = ARM64_PSCI_HVC };
		char err[512] = "";
		void *blob;
		size_t blen;

		s.initrd_end = s.initrd_start + ilen;
		cr_assert_eq(arm64_fdt_build(&s, &blob, &blen, err, sizeof(err)), 0, "%s", err);
		snprintf(dtb, sizeof(dtb), "%s/guest.dtb", b->dir);
		put_file(dtb, blob, blen);
		free(blob);
	}
	snprintf(memobj, sizeof(memobj), "memory-backend-file,id=m0,size=%lluM,mem-path=%s,share=on",
		 (unsigned long long)(MEM_BYTES >> 20), mem);
	snprintf(con, sizeof(con), "file:%s/console.log", b->dir);
	snprintf(hvcdev, sizeof(hvcdev), "file,id=out,path=%s/hvc.log", b->dir);
	{
		char *argv[40] = { QEMU_AARCH64, "-nodefaults", "-no-user-config", "-display", "none",
				   "-M", "virt,gic-version=3", "-cpu", "max",
				   "-smp", "2,sockets=1,clusters=1,cores=2,threads=1", "-m", "512M",
				   "-object", memobj, "-machine", "memory-backend=m0",
				   "-kernel", kernel, "-initrd", img, "-append", append,
				   "-serial", con, "-no-reboot" };
		int i = 0;

		while (argv[i])
			i++;
		if (ktstr_tree) {
			argv[i++] = "-dtb";
			argv[i++] = dtb;
		} else {
			argv[i++] = "-device";
			argv[i++] = "virtio-serial-pci";
			argv[i++] = "-device";
			argv[i++] = "virtconsole,chardev=out";
			argv[i++] = "-chardev";
			argv[i++] = hvcdev;
		}
		argv[i] = NULL;
		rc = vmtest_run(argv, BOOT_TIMEOUT_MS, &out, &st);
		cr_assert_eq(rc, 0, "qemu did not end in %d ms (rc %d): %s", BOOT_TIMEOUT_MS, rc,
			     out ? out : "");
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "qemu ended with status 0x%x: %s",
			  st, out ? out : "");
		free(out);
	}
	snprintf(con, sizeof(con), "%s/console.log", b->dir);
	if (read_file(con, &b->console, &n, 16u << 20))
		b->console = strdup("");
	snprintf(hvc, sizeof(hvc), "%s/hvc.log", b->dir);
	if (read_file(hvc, &b->hvc, &n, 16u << 20))
		b->hvc = strdup("");
	cr_assert_eq(ring_attach(&ring, map, SHM_BYTES), 0, "the guest broke the ring's header");
	cr_assert_geq(ring_drain(&ring, ring_tally_msg, &b->t, false), 0);
	munmap(map, SHM_BYTES);
	close(fd);
}

static void boot_free(struct boot *b)
{
	ring_tally_release(&b->t);
	free(b->console);
	free(b->hvc);
	vmtest_rm_rf(b->dir);
}

Test(arm64_guest, steady_on_ktstr_tree_passes_through_the_ring, .timeout = 400)
{
	Ktstr__GuestSpec g;
	Ktstr__Scenario *sc;
	Ktstr__AssertSpec a;
	struct boot b;

	spec_steady(&g, &sc, &a);
	boot(&b, &g, true);
	cr_assert_null(strstr(b.console, "failed to reserve memory"), "console: %s", b.console);
	cr_assert_eq(b.t.crc_bad, 0, "%d ring messages failed their CRC", b.t.crc_bad);
	cr_assert_not_null(b.t.result, "no TEST message in the ring (%u messages); console: %s",
			   b.t.messages, b.console);
	cr_assert_eq(b.t.result->status, KTSTR__TEST_RESULT__STATUS__PASSED, "detail: %s",
		     b.t.result->detail ? b.t.result->detail : "");
	cr_assert_eq(b.t.result->guest_cpus, 2);
	cr_assert_gt(b.t.result->n_workers, 0);
	for (size_t i = 0; i < b.t.result->n_workers; i++)
		cr_assert_gt(b.t.result->workers[i]->work_units, 0, "worker %zu did no work", i);
	cr_assert(b.t.have_exit && b.t.exit_code == 0, "exit message %d, code %d", b.t.have_exit,
		  b.t.exit_code);
	cr_assert_eq(b.t.scen_start, 1);
	cr_assert_eq(b.t.scen_end, 1);
	cr_assert_geq(b.t.stimuli, 1);
	boot_free(&b);
	protobuf_c_message_free_unpacked(&sc->base, NULL);
}

Test(arm64_guest, output_port_is_hvc0, .timeout = 400)
{
	Ktstr__GuestSpec g;
	Ktstr__Scenario *sc;
	Ktstr__AssertSpec a;
	struct boot b;
	char exit_line[64];

	/* What QEMU's -smp 2 gives without ktstr's tree (no cache nodes): the
	 * test asks for the run, not for the topology check. */
	spec_steady(&g, &sc, &a);
	g.topology = NULL;
	boot(&b, &g, false);
	cr_assert(strstr(b.hvc, KTSTR_COM2_INIT_STARTED "\n"), "%s: %s",
		  KTSTR_GUEST_COM2_DEV_ARM64, b.hvc);
	cr_assert(strstr(b.hvc, KTSTR_COM2_PAYLOAD_STARTING), "%s: %s", KTSTR_GUEST_COM2_DEV_ARM64,
		  b.hvc);
	cr_assert(strstr(b.hvc, KTSTR_COM2_RESULT_START "\n"), "%s: %s", KTSTR_GUEST_COM2_DEV_ARM64,
		  b.hvc);
	cr_assert(b.t.have_exit, "no EXIT message in the ring; console: %s", b.console);
	snprintf(exit_line, sizeof(exit_line), KTSTR_COM2_EXIT "%d\n", b.t.exit_code);
	cr_assert(strstr(b.hvc, exit_line), "%s lacks '%s' (the ring's exit code): %s",
		  KTSTR_GUEST_COM2_DEV_ARM64, exit_line, b.hvc);
	/* Raw output (OPOST off): no \r\n. */
	cr_assert_null(strstr(b.hvc, "\r\n"), "%s is not raw: %s", KTSTR_GUEST_COM2_DEV_ARM64, b.hvc);
	cr_assert_not_null(b.t.result, "no TEST message in the ring");
	cr_assert_eq(b.t.crc_bad, 0);
	boot_free(&b);
	protobuf_c_message_free_unpacked(&sc->base, NULL);
}
