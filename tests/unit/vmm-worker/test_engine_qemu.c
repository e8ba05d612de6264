/* qemu/qemu_args.c / qemu/qemu_qmp.c: QEMU's command line and how an
 * ending is classified. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "qemu/qemu.h"

static bool has_pair(const struct strv *a, const char *opt, const char *val)
{
	for (size_t i = 0; i + 1 < a->n; i++)
		if (!strcmp(a->v[i], opt) && !strcmp(a->v[i + 1], val))
			return true;
	return false;
}

static void args_for(Ktstr__VmSpec *spec, Ktstr__Topology *t, struct qemu_args_in *in)
{
	memset(in, 0, sizeof(*in));
	in->spec = spec;
	in->qemu_path = "/usr/bin/qemu-system-x86_64";
	in->nodes = t->numa_nodes;
	in->fd_qmp = 3;
	in->fd_com1 = 4;
	in->fd_com2 = 5;
	in->fd_log = 6;
	in->fd_kernel = 7;
	in->fd_initrd = 8;
	qemu_split_memory(spec->memory_mb, in->nodes, in->node_mb);
	for (uint32_t i = 0; i < in->nodes; i++)
		in->fd_mem[i] = 9 + (int)i;
	in->cmdline = "console=ttyS0";
}

Test(qemu_args, numa_topology_maps_llcs_to_sockets_and_nodes)
{
	Ktstr__VmSpec spec = KTSTR__VM_SPEC__INIT;
	Ktstr__Topology t = KTSTR__TOPOLOGY__INIT;
	t.numa_nodes = 2, t.llcs = 4, t.cores_per_llc = 2, t.threads_per_core = 1;
	spec.topology = &t;
	spec.memory_mb = 513;
	struct qemu_args_in in;
	args_for(&spec, &t, &in);
	struct strv a;
	cr_assert_eq(qemu_args_build(&in, &a), 0);
	cr_expect(has_pair(&a, "-smp", "8,sockets=4,cores=2,threads=1"));
	cr_expect(has_pair(&a, "-m", "513M"));
	cr_expect(has_pair(&a, "-object",
			   "memory-backend-file,id=m0,size=256M,mem-path=/proc/self/fd/9,share=on"));
	cr_expect(has_pair(&a, "-object",
			   "memory-backend-file,id=m1,size=257M,mem-path=/proc/self/fd/10,share=on"));
	cr_expect(has_pair(&a, "-numa", "node,nodeid=0,cpus=0-3,memdev=m0"));
	cr_expect(has_pair(&a, "-numa", "node,nodeid=1,cpus=4-7,memdev=m1"));
	cr_expect(has_pair(&a, "-numa", "dist,src=0,dst=1,val=20"));
	cr_expect(has_pair(&a, "-accel", "tcg,thread=single"));
	cr_expect(has_pair(&a, "-kernel", "/proc/self/fd/7"));
	cr_expect(has_pair(&a, "-initrd", "/proc/self/fd/8"));
	cr_expect(has_pair(&a, "-machine", "pc"));
	cr_expect(has_pair(&a, "-chardev", "socket,id=qmp,fd=3"));
	cr_expect_null(a.v[a.n], "argv is NULL-terminated");
	strv_free(&a);
}

Test(qemu_args, one_node_uses_the_machine_memory_backend)
{
	Ktstr__VmSpec spec = KTSTR__VM_SPEC__INIT;
	Ktstr__Topology t = KTSTR__TOPOLOGY__INIT;
	t.numa_nodes = 1, t.llcs = 1, t.cores_per_llc = 2, t.threads_per_core = 2;
	spec.topology = &t;
	spec.memory_mb = 256;
	char *off[] = { "xsave", "avx" };
	spec.n_cpu_features_off = 2;
	spec.cpu_features_off = off;
	struct qemu_args_in in;
	args_for(&spec, &t, &in);
	in.fd_initrd = -1;
	struct strv a;
	cr_assert_eq(qemu_args_build(&in, &a), 0);
	cr_expect(has_pair(&a, "-machine", "pc,memory-backend=m0"));
	cr_expect(has_pair(&a, "-cpu", "max,-xsave,-avx"));
	cr_expect(has_pair(&a, "-smp", "4,sockets=1,cores=2,threads=2"));
	for (size_t i = 0; i < a.n; i++) {
		cr_expect_str_neq(a.v[i], "-numa");
		cr_expect_str_neq(a.v[i], "-initrd");
	}
	strv_free(&a);
}

Test(qemu_args, feature_names_that_inject_options_are_refused)
{
	Ktstr__VmSpec spec = KTSTR__VM_SPEC__INIT;
	Ktstr__Topology t = KTSTR__TOPOLOGY__INIT;
	t.numa_nodes = 1, t.llcs = 1, t.cores_per_llc = 1, t.threads_per_core = 1;
	spec.topology = &t;
	spec.memory_mb = 256;
	char *off[] = { "avx,+vmx" };
	spec.n_cpu_features_off = 1;
	spec.cpu_features_off = off;
	struct qemu_args_in in;
	args_for(&spec, &t, &in);
	struct strv a;
	cr_assert_eq(qemu_args_build(&in, &a), -EINVAL);
	cr_assert_null(a.v);
}

Test(qmp, shutdown_event_and_reason)
{
	struct qemu_qmp_event ev;
	cr_assert(qemu_qmp_parse_event("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "
				  "\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true, "
				  "\"reason\": \"guest-reset\"}}",
				  &ev));
	cr_assert_str_eq(ev.event, "SHUTDOWN");
	cr_assert_str_eq(ev.reason, "guest-reset");
	cr_assert(!qemu_qmp_parse_event("{\"QMP\": {\"version\": {}, \"capabilities\": []}}", &ev));
	cr_assert(!qemu_qmp_parse_event("{\"return\": {}}", &ev));
	cr_assert(qemu_qmp_parse_event("{\"event\":\"STOP\",\"timestamp\":{}}", &ev));
	cr_assert_str_eq(ev.event, "STOP");
	cr_assert_str_eq(ev.reason, "");
}

/* The liveness probe's reply, and nothing else, is recognised. */
Test(qmp, liveness_reply_is_matched_by_its_id)
{
	char st[32];

	cr_assert(qemu_qmp_parse_status_reply("{\"return\": {\"status\": \"running\", \"singlestep\": "
					 "false, \"running\": true}, \"id\": \"ktstr-live\"}",
					 st, sizeof(st)));
	cr_assert_str_eq(st, "running");
	cr_assert(qemu_qmp_parse_status_reply("{\"return\": {\"status\": \"paused\", \"running\": "
					 "false}, \"id\": \"ktstr-live\"}",
					 st, sizeof(st)));
	cr_assert_str_eq(st, "paused");
	cr_assert(!qemu_qmp_parse_status_reply("{\"return\": {}}", st, sizeof(st)), "cont's reply");
	cr_assert(!qemu_qmp_parse_status_reply("{\"return\": {\"status\": \"running\"}, \"id\": "
					  "\"other\"}",
					  st, sizeof(st)));
	cr_assert(!qemu_qmp_parse_status_reply("{\"event\": \"STOP\", \"id\": \"ktstr-live\"}", st,
					  sizeof(st)));
	cr_assert_str_eq(QEMU_QMP_LIVENESS_QUERY,
			 "{\"execute\":\"query-status\",\"id\":\"ktstr-live\"}\n");
}

Test(qmp, outcome_precedence)
{
	struct qemu_seen s = { 0 };
	cr_assert_eq(qemu_outcome(&s), KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR, "no event = engine error");
	s.shutdown_event = true;
	strcpy(s.shutdown_reason, "guest-shutdown");
	cr_assert_eq(qemu_outcome(&s), KTSTR__OUTCOME__OUTCOME_POWER_OFF);
	strcpy(s.shutdown_reason, "guest-reset");
	cr_assert_eq(qemu_outcome(&s), KTSTR__OUTCOME__OUTCOME_RESET);
	strcpy(s.shutdown_reason, "host-error");
	cr_assert_eq(qemu_outcome(&s), KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR);
	strcpy(s.shutdown_reason, "guest-reset");
	s.panic = true; /* panic=-1 resets: the panic is the cause */
	cr_assert_eq(qemu_outcome(&s), KTSTR__OUTCOME__OUTCOME_GUEST_PANIC);
	s.triple_fault = true; /* TCG turns a triple fault into a reset */
	cr_assert_eq(qemu_outcome(&s), KTSTR__OUTCOME__OUTCOME_TRIPLE_FAULT);
}

Test(qemu_mem, memory_split_gives_the_remainder_to_the_last_node)
{
	uint64_t mb[3];
	qemu_split_memory(1000, 3, mb);
	cr_assert_eq(mb[0], 333);
	cr_assert_eq(mb[1], 333);
	cr_assert_eq(mb[2], 334);
}

Test(qemu_mem, shm_maps_from_the_node_that_holds_it)
{
	uint64_t mb[2] = { 16, 16 };
	struct qemu_mem m;
	cr_assert_eq(qemu_mem_create(&m, 2, mb), 0);
	cr_assert_eq(qemu_mem_map_shm(&m, (30ull << 20), 1u << 20), 0);
	cr_assert_not_null(m.shm);
	((volatile char *)m.shm)[0] = 'x';
	char c = 0;
	cr_assert_eq(pread(m.fd[1], &c, 1, 14 << 20), 1, "offset within node 1's memfd");
	cr_assert_eq(c, 'x');
	qemu_mem_destroy(&m);
	cr_assert_eq(qemu_mem_create(&m, 2, mb), 0);
	cr_assert_eq(qemu_mem_map_shm(&m, (15ull << 20) + (512u << 10), 1u << 20), -ERANGE,
		     "a region straddling two nodes is refused");
	qemu_mem_destroy(&m);
}

Test(qemu_initrd, base_is_padded_before_the_suffix)
{
	FILE *f = tmpfile();
	fwrite("abcde", 1, 5, f);
	fflush(f);
	int out = -1;
	cr_assert_eq(qemu_initrd_build(fileno(f), (const uint8_t *)"XY", 2, &out), 0);
	char buf[16] = { 0 };
	cr_assert_eq(pread(out, buf, sizeof(buf), 0), 10);
	cr_assert_eq(memcmp(buf, "abcde\0\0\0XY", 10), 0);
	close(out);
	fclose(f);
	cr_assert_eq(qemu_initrd_build(-1, NULL, 0, &out), 0);
	cr_assert_eq(out, -1, "nothing to load, no initrd");
}
