/* `ktstr-orch kernel build`: a kernel from a source tree or a git ref,
 * configured for ktstr, built out of tree, validated and cached under a key
 * of its source identity and config (docs/kernels.md, "kernel build").
 *
 * It runs the tree's own build system (make, the compiler, pahole) as the
 * invoking user, in this process's session: never in a worker, never with
 * privileges it did not have (docs/security.md). */
#ifndef KTSTR_ORCH_KERNEL_BUILD_H
#define KTSTR_ORCH_KERNEL_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <ktstr/util.h>

#include "kbuild_src.h"
#include "kconfig_frag.h"

#define KBUILD_FRAGS_MAX 16
#define KBUILD_MAKE_ARGS_MAX 16
#define KBUILD_TIMEOUT_DEFAULT_S (3 * 3600)

struct kbuild_opts {
	const char *source;		/* --source DIR */
	const char *git, *ref;		/* --git URL --ref REF */
	const char *frags[KBUILD_FRAGS_MAX]; /* --config FILE, in order */
	size_t nfrags;
	const char *make_args[KBUILD_MAKE_ARGS_MAX]; /* --make-arg VAR=VALUE */
	size_t nmake_args;
	const char *base;		/* "defconfig" (default) or "tinyconfig" */
	unsigned jobs;			/* make -j; 0 = online CPUs */
	unsigned timeout_s;		/* the whole build; 0 = default */
	bool force;			/* build even when cached; replace the entry */
	bool clean;			/* empty the build directory first */
};

/* Returns 0 (the cache key on out; for a dirty tree the build directory
 * to pass as --kernel instead), -EINVAL (bad options or fragments: said
 * on stderr), -EBUSY (this source is being built by another process) or
 * -errno; every failure is said on stderr with what to do. */
int kernel_build(const struct kbuild_opts *o, FILE *out);

/* ---- parts, exposed for tests ---- */

/* Whether s is a make variable assignment --make-arg takes: NAME=VALUE,
 * NAME upper-case letters, digits and '_', VALUE without control bytes;
 * never O= or -j (ktstr's own), nor a NAME make treats as a target. */
bool kbuild_make_arg_ok(const char *s);

/* The config a build asks for, in merge order: ktstr's needs
 * (kconfig_need.h), then each fragment (the later wins). frag_texts[i]
 * is the content of frag_names[i]. Returns 0 or -errno with err naming
 * the fragment and line. */
int kbuild_want(const char *const *frag_names, const char *const *frag_texts, size_t nfrags,
		struct kcfg *want, char *err, size_t errlen);

/* pahole emits the "bpf_kfunc" declaration tags from 1.26 (CONFIG_PAHOLE_VERSION
 * 126); resolve_btfids needs them to hide implicit kfunc arguments. */
#define KBUILD_PAHOLE_KFUNC_TAGS 126

/* Whether the pahole the config found can build this tree's sched_ext:
 * a tree with KF_IMPLICIT_ARGS kfuncs (include/linux/btf.h) needs
 * KBUILD_PAHOLE_KFUNC_TAGS, else every scheduler fails to load with
 * "func_proto incompatible with vmlinux". got is the final config.
 * Returns 0 or -EINVAL with err saying what to install. */
int kbuild_pahole_check(const struct kcfg *got, const char *srcdir, char *err, size_t errlen);

/* The cache key of a built kernel: "<release>+src.<8 hex>.cfg.<8 hex>",
 * the first of sha256(source identity), the second of sha256(the final
 * config, then each make argument): same source and config, same key.
 * release is cut to the bytes a cache key may hold. Returns 0 or
 * -ENAMETOOLONG. */
int kbuild_key(const char *release, const char *ident, const char *config, size_t cfglen,
	       const char *const *make_args, size_t nmake_args, char *key, size_t keylen,
	       char cfg_hex[65]);

#endif
