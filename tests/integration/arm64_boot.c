/* Issue 20's proof on this x86_64 host: a real Debian arm64 kernel, under
 * qemu-system-aarch64 (TCG), boots the device tree ktstr builds
 * (vmm-worker/arm64-guest/) and reports the requested topology from sysfs:
 * online CPUs, every CPU's thread siblings, package (= NUMA node) and
 * cluster (= LLC), every cache index's level, type and sharing (index3 is
 * the LLC), every node's cpulist and distances, the SHM ring reserved in
 * /proc/iomem, and every CPU's sched domains (SMT, MC = LLC, DIE = node,
 * NUMA). Expected values are computed from the topology model.
 *
 * arm64_dtb/qemu_keeps_the_tree (no boot) proves the tree QEMU hands the
 * kernel is ours: QEMU's -M dumpdtb output equals our blob node for node,
 * property for property, except /psci (QEMU's function IDs) -- and the
 * initrd range QEMU chose equals the one the tree predicted.
 *
 * The guest is a busybox-static:arm64 initramfs whose /init prints what it
 * reads and powers off (PSCI SYSTEM_OFF ends QEMU). scripts/fetch-arm64 puts
 * the kernel (bookworm's, through `ktstr-orch kernel fetch --arch arm64`)
 * in the kernel cache and busybox in $KTSTR_CACHE_DIR/arm64/; without them (or QEMU)
 * the boot tests skip here and fail under KTSTR_REQUIRE_VM=1.
 * Boots take 30-60 s each under TCG on 2 loaded cores: four topologies. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libfdt.h>

#include <ktstr/cpulist.h>
#include <ktstr/strv.h>
#include <ktstr/topology.h>
#include <ktstr/util.h>

#include "arm64-guest/arm64_fdt.h"
#include "arm64-guest/arm64_image.h"
#include "arm64-guest/arm64_layout.h"
#include "lib/arm64_guest.h"
#include "lib/vmtest.h"
#include "qemu/qemu_arm64.h"

#define QEMU_AARCH64 "/usr/bin/qemu-system-aarch64"
#define MIB (1ull << 20)
#define MEM_BYTES (512 * MIB)
#define SHM_BYTES (16 * MIB)
/* A boot has taken 35 s (4 vCPUs) here; five times the slowest is a hang. */
#define BOOT_TIMEOUT_MS (300 * 1000)
#define BOOTARGS "console=ttyAMA0 panic=-1 rdinit=/init loglevel=4"

/* What /init prints, one fact per line, in CPU and node order (not glob
 * order: cpu10 sorts before cpu2). */
static const char init_script[] =
	"#!/bin/busybox sh\n"
	"/bin/busybox --install -s /bin\n"
	"mkdir -p /proc /sys\n"
	"mount -t proc proc /proc\n"
	"mount -t sysfs sysfs /sys\n"
	"S=/sys/devices/system\n"
	"echo KTSTR_ARM64_BEGIN\n"
	"echo \"online $(cat $S/cpu/online)\"\n"
	"i=0\n"
	"while [ -d $S/cpu/cpu$i ]; do\n"
	"  t=$S/cpu/cpu$i/topology\n"
	"  echo \"cpu $i siblings $(cat $t/thread_siblings_list) package $(cat $t/physical_package_id) cluster $(cat $t/cluster_cpus_list)\"\n"
	"  k=0\n"
	"  while [ -d $S/cpu/cpu$i/cache/index$k ]; do\n"
	"    c=$S/cpu/cpu$i/cache/index$k\n"
	/* L2 and L3 sizes come from the tree's cache nodes (L1's from the
	 * CPU's CCSIDR: not ktstr's, not printed). */
	"    sz=; [ $k -ge 2 ] && sz=\" $(cat $c/size)\"\n"
	"    echo \"cpu $i index$k level $(cat $c/level) $(cat $c/type) $(cat $c/shared_cpu_list)$sz\"\n"
	"    k=$((k+1))\n"
	"  done\n"
	"  i=$((i+1))\n"
	"done\n"
	"n=0\n"
	"while [ -d $S/node/node$n ]; do\n"
	"  echo \"node $n cpus $(cat $S/node/node$n/cpulist) distance $(cat $S/node/node$n/distance)\"\n"
	"  n=$((n+1))\n"
	"done\n"
	"echo \"iomem $(sed -n 's/^ *\\(@SHM@-[0-9a-f]*\\) : \\(.*\\)/\\1 \\2/p' /proc/iomem)\"\n"
	/* The scheduler's view: every CPU's sched domains, name and span
	 * (/proc/schedstat's mask), lowest first. */
	"mount -t debugfs debugfs /sys/kernel/debug\n"
	"D=/sys/kernel/debug/sched/domains\n"
	"i=0\n"
	"while [ -d $D/cpu$i ]; do\n"
	"  d=0\n"
	"  while [ -d $D/cpu$i/domain$d ]; do\n"
	"    m=$(awk -v c=cpu$i -v d=domain$d '$1 == c {f = 1; next} /^cpu/ {f = 0} f && $1 == d {print $2}' /proc/schedstat)\n"
	/* 6.8 renamed DIE to PKG: one name for both. */
	"    nm=$(cat $D/cpu$i/domain$d/name); [ \"$nm\" = PKG ] && nm=DIE\n"
	"    echo \"sched cpu$i $nm $m\"\n"
	"    d=$((d+1))\n"
	"  done\n"
	"  i=$((i+1))\n"
	"done\n"
	"echo KTSTR_ARM64_END\n"
	"poweroff -f\n";

/* The kernel cache entry `ktstr-orch kernel fetch --arch arm64 --suite
 * bookworm` makes (scripts/fetch-arm64 runs it): kernels/<release>-cloud-
 * arm64/Image whose metadata says suite=bookworm, since the sched domain
 * names expected below are 6.1's (DIE; 6.7 renamed it PKG); busybox as
 * lib/arm64_guest.c finds it. */
static bool find_guest(char *kernel, size_t klen, char *busybox, size_t blen)
{
	char dir[900], pat[1024];
	glob_t g;
	bool ok = false;

	if (arm64_cache_dir(dir, sizeof(dir)) < 0)
		return false;
	snprintf(pat, sizeof(pat), "%s/kernels/*-cloud-arm64/Image", dir);
	if (glob(pat, 0, NULL, &g) || !g.gl_pathc) {
		globfree(&g);
		return false;
	}
	/* The last bookworm one in glob's order: the newest 6.1 ABI. */
	for (size_t i = g.gl_pathc; i-- > 0 && !ok;) {
		char meta[1100], *text = NULL;
		const char *slash = strrchr(g.gl_pathv[i], '/');
		size_t n;

		snprintf(meta, sizeof(meta), "%.*s/metadata", (int)(slash - g.gl_pathv[i]),
			 g.gl_pathv[i]);
		if (read_file(meta, &text, &n, 65536))
			continue;
		if (strstr(text, "\nsuite=bookworm\n") && strstr(text, "\narch=arm64\n")) {
			snprintf(kernel, klen, "%s", g.gl_pathv[i]);
			ok = true;
		}
		free(text);
	}
	globfree(&g);
	return ok && access(kernel, R_OK) == 0 && arm64_busybox(busybox, blen) == 0;
}

static void put_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write_full(fd, data, len), 0);
	close(fd);
}

static size_t file_size(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0, "%s", path);
	return (size_t)st.st_size;
}

/* The initramfs: /bin/busybox and /init (with the ring's base put in). */
static void make_initramfs(const char *busybox, const char *out, uint64_t shm_base)
{
	char script[sizeof(init_script) + 32], hex[32], *at;
	int rc;

	snprintf(hex, sizeof(hex), "%llx", (unsigned long long)shm_base);
	snprintf(script, sizeof(script), "%s", init_script);
	at = strstr(script, "@SHM@");
	cr_assert(at);
	memmove(at + strlen(hex), at + 5, strlen(at + 5) + 1);
	memcpy(at, hex, strlen(hex));
	rc = arm64_initramfs(busybox, script, out);
	cr_assert_eq(rc, 0, "initramfs %s: %s", out, strerror(-rc));
}

/* Build the tree for t into dir/guest.dtb, the initrd range being where QEMU
 * will load an initrd of initrd_len bytes. */
static void make_dtb(const struct ktstr_topo *t, const char *dir, size_t initrd_len,
		     struct arm64_fdt_spec *s, char *dtb, size_t dlen)
{
	char err[512] = "";
	void *blob;
	size_t len;

	*s = (struct arm64_fdt_spec){ .topo = *t,
				      .mem_bytes = MEM_BYTES,
				      .shm_base = ARM64_DRAM_BASE + MEM_BYTES - SHM_BYTES,
				      .shm_size = SHM_BYTES,
				      .initrd_start = qemu_arm64_initrd_base(MEM_BYTES),
				      .bootargs = BOOTARGS,
				      .uart = ARM64_UART_PL011,
				      .psci = ARM64_PSCI_HVC,
				      .pcie = true };
	s->initrd_end = s->initrd_start + initrd_len;
	cr_assert_eq(arm64_fdt_build(s, &blob, &len, err, sizeof(err)), 0, "%s", err);
	snprintf(dtb, dlen, "%s/guest.dtb", dir);
	put_file(dtb, blob, len);
	free(blob);
}

static int run_qemu(const struct qemu_arm64_in *in, char **out, int *status)
{
	struct strv argv = { 0 };
	int rc;

	cr_assert_eq(qemu_arm64_args(in, &argv), 0); /* argv.v is NULL-terminated */
	rc = vmtest_run(argv.v, BOOT_TIMEOUT_MS, out, status);
	strv_free(&argv);
	return rc;
}

/* Whether the config beside the kernel Image (scripts/fetch-arm64 puts it
 * there) has the line. */
static bool kernel_has(const char *image, const char *line)
{
	char path[1100], buf[512];
	const char *slash = strrchr(image, '/');
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%.*s/config", slash ? (int)(slash - image) : 1,
		 slash ? image : ".");
	f = fopen(path, "r");
	cr_assert(f, "%s missing: run scripts/fetch-arm64", path);
	while (!found && fgets(buf, sizeof(buf), f))
		found = !strncmp(buf, line, strlen(line)) && buf[strlen(line)] == '\n';
	fclose(f);
	return found;
}

/* ---- QEMU hands the kernel our tree ----------------------------------- */

/* Property values are only 4-byte aligned in a blob: copy, never cast. */
static uint64_t num_prop(const void *p, int len)
{
	fdt64_t v;

	if (len != 8)
		return fdt32_to_cpu(*(const fdt32_t *)p);
	memcpy(&v, p, sizeof(v));
	return fdt64_to_cpu(v);
}

/* Every node and property of a is in b with the same value, but for the
 * nodes QEMU owns (/psci) and the initrd range (compared as numbers: QEMU
 * writes one cell, we two). Returns how many nodes were compared. */
static int tree_within(const void *a, const void *b, const char *what)
{
	int off = 0, depth = 0, nodes = 0;
	char path[512];

	/* fdt_next_node leaves the root with depth -1 and a non-node offset. */
	for (; off >= 0 && depth >= 0; off = fdt_next_node(a, off, &depth)) {
		int boff, poff;

		cr_assert_eq(fdt_get_path(a, off, path, sizeof(path)), 0);
		boff = fdt_path_offset(b, path);
		cr_assert_geq(boff, 0, "%s: node %s missing", what, path);
		nodes++;
		if (!strcmp(path, "/psci"))
			continue;
		fdt_for_each_property_offset(poff, a, off)
		{
			const char *name;
			int alen, blen;
			const void *av = fdt_getprop_by_offset(a, poff, &name, &alen);
			const void *bv = fdt_getprop(b, boff, name, &blen);

			cr_assert(bv, "%s: %s/%s missing", what, path, name);
			if (!strcmp(path, "/chosen") && !strncmp(name, "linux,initrd-", 13)) {
				cr_assert_eq(num_prop(av, alen), num_prop(bv, blen),
					     "%s: %s/%s differs", what, path, name);
				continue;
			}
			cr_assert(alen == blen && !memcmp(av, bv, (size_t)alen),
				  "%s: %s/%s differs", what, path, name);
		}
	}
	return nodes;
}

Test(arm64_dtb, qemu_keeps_the_tree, .timeout = 120)
{
	static const struct ktstr_topo topos[] = { { 2, 2, 2, 1 }, { 1, 2, 2, 2 } };
	char dir[256], dtb[512], dumped[512], kernel[512], initrd[512], *out = NULL;

	if (access(QEMU_AARCH64, X_OK))
		test_missing("needs %s (qemu-system-arm)", QEMU_AARCH64);
	cr_assert_eq(vmtest_tmpdir(dir, sizeof(dir)), 0);
	/* dumpdtb exits before the kernel runs: any file serves as one. */
	snprintf(kernel, sizeof(kernel), "%s/kernel", dir);
	snprintf(initrd, sizeof(initrd), "%s/initrd", dir);
	put_file(kernel, (char[4096]){ 0 }, 4096);
	put_file(initrd, (char[12345]){ 0 }, 12345);
	for (size_t i = 0; i < 2; i++) {
		struct arm64_fdt_spec s;
		struct qemu_arm64_in in;
		void *ours, *theirs;
		size_t olen, tlen;
		int status, off;

		make_dtb(&topos[i], dir, 12345, &s, dtb, sizeof(dtb));
		snprintf(dumped, sizeof(dumped), "%s/qemu.dtb", dir);
		in = (struct qemu_arm64_in){ .qemu_path = QEMU_AARCH64, .cpu_model = "max",
					     .topo = topos[i], .mem_bytes = MEM_BYTES, .dtb = dtb,
					     .kernel = kernel, .initrd = initrd,
					     .append = BOOTARGS, .dumpdtb = dumped };
		cr_assert_eq(run_qemu(&in, &out, &status), 0);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "qemu: %s", out);
		free(out);
		olen = file_size(dtb);
		tlen = file_size(dumped);
		ours = malloc(olen);
		theirs = malloc(tlen);
		{
			FILE *f = fopen(dtb, "r");
			cr_assert_eq(fread(ours, 1, olen, f), olen);
			fclose(f);
			f = fopen(dumped, "r");
			cr_assert_eq(fread(theirs, 1, tlen, f), tlen);
			fclose(f);
		}
		cr_assert_eq(fdt_check_header(theirs), 0);
		cr_assert_gt(tree_within(ours, theirs, "ours in QEMU's"), 20);
		tree_within(theirs, ours, "QEMU's in ours");
		/* /psci is QEMU's, with the conduit the tree asked for. */
		off = fdt_path_offset(theirs, "/psci");
		cr_assert_str_eq(fdt_getprop(theirs, off, "method", NULL), "hvc");
		cr_assert_eq(fdt_node_check_compatible(theirs, off, "arm,psci-1.0"), 0);
		free(ours);
		free(theirs);
	}
	vmtest_rm_rf(dir);
}

/* ---- the Debian kernel's Image header ---------------------------------- */

Test(arm64_image, debian_kernel)
{
	char kernel[1024], busybox[1024], err[512] = "";
	uint8_t hdr[ARM64_IMAGE_HDR_SIZE];
	struct arm64_image_info i;
	uint64_t load;
	size_t len;
	FILE *f;

	if (!find_guest(kernel, sizeof(kernel), busybox, sizeof(busybox)))
		test_missing("needs bookworm's arm64 kernel in $KTSTR_CACHE_DIR/kernels/: run "
			     "scripts/fetch-arm64");
	len = file_size(kernel);
	f = fopen(kernel, "r");
	cr_assert(f);
	cr_assert_eq(fread(hdr, 1, sizeof(hdr), f), sizeof(hdr));
	fclose(f);
	cr_assert_eq(arm64_image_parse(hdr, sizeof(hdr), len, &i, err, sizeof(err)), 0, "%s: %s",
		     kernel, err);
	cr_assert_not(i.legacy);
	cr_assert_eq(i.page_kib, 4, "Debian's cloud kernel uses 4K pages");
	cr_assert_geq(i.image_size, len);
	/* It fits below where QEMU puts the initrd in the boot tests' 512 MiB. */
	cr_assert_eq(arm64_image_place(&i, MEM_BYTES, qemu_arm64_initrd_base(MEM_BYTES), &load, err,
				       sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(load, ARM64_DRAM_BASE + i.text_offset);
}

/* ---- boot and read the topology back ---------------------------------- */

static void fmt_set(const struct cpuset_bits *set, char *buf, size_t len)
{
	cr_assert_geq(cpulist_format(set, buf, len), 0);
}

/* The sched domains Linux 6.1 builds on arm64 from the tree, for each CPU:
 * SMT (the core's threads), MC (cpu_coregroup_mask: the LLC, from the L3
 * nodes), DIE (the package = the NUMA node), then NUMA (all nodes, distance
 * 20) when there are several; a level spanning what the level below it
 * spans, or one CPU, is degenerate and dropped (NODE always is, equal to
 * DIE). The span is /proc/schedstat's %*pb mask: ceil(cpus / 4) hex digits
 * (the topologies here have at most 32 CPUs). */
static void expected_domains(const struct ktstr_topo *t, bool cluster, struct strbuf *sb)
{
	uint32_t cpus = topo_cpus(t);

	cr_assert_leq(cpus, 32);
	for (uint32_t c = 0; c < cpus; c++) {
		struct ktstr_cpu_coords cc, oc;
		uint32_t span[4] = { 0 }, prev = 1u << c;
		/* With CONFIG_SCHED_CLUSTER the cluster level (CLS, the LLC here)
		 * comes first and MC, the same span, is the one dropped. */
		const char *const names[] = { "SMT", cluster ? "CLS" : "MC", "DIE", "NUMA" };
		int levels = t->numa_nodes > 1 ? 4 : 3;

		topo_cpu_coords(t, c, &cc);
		for (uint32_t o = 0; o < cpus; o++) {
			topo_cpu_coords(t, o, &oc);
			if (oc.llc == cc.llc && oc.core == cc.core)
				span[0] |= 1u << o;
			if (oc.llc == cc.llc)
				span[1] |= 1u << o;
			if (oc.node == cc.node)
				span[2] |= 1u << o;
			span[3] |= 1u << o;
		}
		for (int l = 0; l < levels; l++) {
			if (span[l] == prev)
				continue;
			sb_printf(sb, "sched cpu%u %s %0*x\n", c, names[l], (int)((cpus + 3) / 4),
				  span[l]);
			prev = span[l];
		}
	}
}

/* The lines /init must print for t, from the model. */
static void expected(const struct ktstr_topo *t, uint64_t shm_base, bool cluster,
		     struct strbuf *sb)
{
	uint32_t cpus = topo_cpus(t);
	struct cpuset_bits all, core, llc, node;
	char a[256], b[256];

	cpuset_clear_all(&all);
	for (uint32_t c = 0; c < cpus; c++)
		cpuset_add(&all, c);
	fmt_set(&all, a, sizeof(a));
	sb_printf(sb, "online %s\n", a);
	for (uint32_t c = 0; c < cpus; c++) {
		struct ktstr_cpu_coords cc, oc;
		struct cpuset_bits self;

		topo_cpu_coords(t, c, &cc);
		cpuset_clear_all(&core);
		cpuset_clear_all(&llc);
		cpuset_clear_all(&self);
		cpuset_add(&self, c);
		for (uint32_t o = 0; o < cpus; o++) {
			topo_cpu_coords(t, o, &oc);
			if (oc.llc == cc.llc)
				cpuset_add(&llc, o);
			if (oc.llc == cc.llc && oc.core == cc.core)
				cpuset_add(&core, o);
		}
		fmt_set(&core, a, sizeof(a));
		fmt_set(&llc, b, sizeof(b));
		sb_printf(sb, "cpu %u siblings %s package %u cluster %s\n", c, a, cc.node, b);
		fmt_set(&self, a, sizeof(a));
		sb_printf(sb, "cpu %u index0 level 1 Data %s\n", c, a);
		sb_printf(sb, "cpu %u index1 level 1 Instruction %s\n", c, a);
		fmt_set(&core, a, sizeof(a));
		sb_printf(sb, "cpu %u index2 level 2 Unified %s %uK\n", c, a, ARM64_L2_BYTES >> 10);
		sb_printf(sb, "cpu %u index3 level 3 Unified %s %uK\n", c, b,
			  (ARM64_L3_BYTES_PER_CORE * t->cores_per_llc) >> 10);
	}
	for (uint32_t n = 0; n < t->numa_nodes; n++) {
		cpuset_clear_all(&node);
		for (uint32_t c = 0; c < cpus; c++) {
			struct ktstr_cpu_coords cc;

			topo_cpu_coords(t, c, &cc);
			if (cc.node == n)
				cpuset_add(&node, c);
		}
		fmt_set(&node, a, sizeof(a));
		sb_printf(sb, "node %u cpus %s distance", n, a);
		for (uint32_t m = 0; m < t->numa_nodes; m++)
			sb_printf(sb, " %u", topo_node_distance(n, m));
		sb_printf(sb, "\n");
	}
	sb_printf(sb, "iomem %llx-%llx reserved\n", (unsigned long long)shm_base,
		      (unsigned long long)(shm_base + SHM_BYTES - 1));
	expected_domains(t, cluster, sb);
}

/* The text between the markers, \r dropped (the console is a tty). */
static char *guest_block(const char *out)
{
	const char *b = strstr(out, "KTSTR_ARM64_BEGIN\n"), *e;
	char *r, *w;

	if (!b)
		b = strstr(out, "KTSTR_ARM64_BEGIN\r\n");
	cr_assert(b, "no KTSTR_ARM64_BEGIN in the console:\n%s", out);
	b = strchr(b, '\n') + 1;
	e = strstr(b, "KTSTR_ARM64_END");
	cr_assert(e, "no KTSTR_ARM64_END in the console:\n%s", out);
	r = strndup(b, (size_t)(e - b));
	for (w = r; *b && b < e; b++)
		if (*b != '\r')
			*w++ = *b;
	*w = '\0';
	return r;
}

static void boot_topology(uint32_t n, uint32_t l, uint32_t c, uint32_t t)
{
	struct ktstr_topo topo = { n, l, c, t };
	char dir[256], dtb[512], kernel[1024], busybox[1024], initrd[512], *out = NULL, *got;
	struct arm64_fdt_spec s;
	struct qemu_arm64_in in;
	struct strbuf want = { 0 };
	int status, rc;

	if (access(QEMU_AARCH64, X_OK))
		test_missing("needs %s (qemu-system-arm)", QEMU_AARCH64);
	if (!find_guest(kernel, sizeof(kernel), busybox, sizeof(busybox)))
		test_missing("needs bookworm's arm64 kernel in $KTSTR_CACHE_DIR/kernels/ and "
			     "$KTSTR_CACHE_DIR/arm64/busybox: run scripts/fetch-arm64");
	cr_assert_eq(vmtest_tmpdir(dir, sizeof(dir)), 0);
	snprintf(initrd, sizeof(initrd), "%s/initrd.cpio", dir);
	make_initramfs(busybox, initrd, ARM64_DRAM_BASE + MEM_BYTES - SHM_BYTES);
	make_dtb(&topo, dir, file_size(initrd), &s, dtb, sizeof(dtb));
	in = (struct qemu_arm64_in){ .qemu_path = QEMU_AARCH64, .cpu_model = "max",
				     .topo = topo, .mem_bytes = MEM_BYTES, .dtb = dtb,
				     .kernel = kernel, .initrd = initrd, .append = BOOTARGS };
	rc = run_qemu(&in, &out, &status);
	cr_assert_eq(rc, 0, "qemu did not end in %d ms (rc %d):\n%s", BOOT_TIMEOUT_MS, rc,
		     out ? out : "");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "qemu ended with status 0x%x:\n%s", status, out);
	cr_assert(strstr(out, "reboot: Power down"), "the guest did not power off:\n%s", out);
	cr_assert_null(strstr(out, "failed to reserve memory"), "the ring's reservation failed:\n%s",
		       out);
	got = guest_block(out);
	expected(&topo, s.shm_base, kernel_has(kernel, "CONFIG_SCHED_CLUSTER=y"), &want);
	cr_assert_str_eq(got, want.buf, "%u,%u,%u,%u: the guest reported\n%s\nthe model says\n%s", n,
			 l, c, t, got, want.buf);
	free(got);
	sb_free(&want);
	free(out);
	vmtest_rm_rf(dir);
}

Test(arm64_boot, topology_1_1_2_1, .timeout = 400) { boot_topology(1, 1, 2, 1); }
Test(arm64_boot, topology_1_2_2_1, .timeout = 400) { boot_topology(1, 2, 2, 1); }
Test(arm64_boot, topology_2_2_2_1, .timeout = 400) { boot_topology(2, 2, 2, 1); }
Test(arm64_boot, topology_1_2_2_2, .timeout = 400) { boot_topology(1, 2, 2, 2); }
