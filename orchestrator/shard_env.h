/* `--partition auto`: the shard from the CI engine's environment
 * (docs/farms.md, "Shards", has each engine's variables). The
 * environment is untrusted input: every value is a bounded decimal. */
#ifndef KTSTR_ORCH_SHARD_ENV_H
#define KTSTR_ORCH_SHARD_ENV_H

#include <stddef.h>
#include <stdint.h>

/* Looks a variable up (getenv, or a table in the tests); NULL = unset. */
typedef const char *(*shard_getenv_fn)(const char *name, void *arg);

struct shard_env {
	uint32_t k, n;	   /* shard k of n, 1-based, as --partition K/N */
	char source[192];  /* "GitLab CI: CI_NODE_INDEX=2 CI_NODE_TOTAL=4" */
};

/* Each engine whose index variable is set is read; they must agree (two
 * that disagree are refused naming both), and at least one must be set.
 * Returns 0 with out filled, or -EINVAL / -ENOENT (none set) with err
 * saying what was read, why it is refused and what to set. */
int shard_env_resolve(shard_getenv_fn get, void *arg, struct shard_env *out, char *err,
		      size_t errlen);

/* shard_getenv_fn over the process environment. */
const char *shard_getenv_process(const char *name, void *arg);

#endif
