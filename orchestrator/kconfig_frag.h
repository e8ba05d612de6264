/* Kernel config text as data: a .config or a fragment parsed into ordered
 * CONFIG_ options, merged (the later setting wins), written back, and
 * compared with what `make olddefconfig` kept (docs/kernels.md, "kernel
 * build").
 *
 * Accepted lines: `CONFIG_NAME=VALUE`, `# CONFIG_NAME is not set` (value
 * "n"), other lines starting with '#', blank lines. VALUE is y, m, n, a
 * decimal or 0x hex number, or a double-quoted string (backslash escapes
 * \" and \\ only). Anything else is an error naming origin:line. A
 * fragment comes from the user: text, line length, option count and
 * value length are bounded (KCFG_*), each bound refused with its figure. */
#ifndef KTSTR_ORCH_KCONFIG_FRAG_H
#define KTSTR_ORCH_KCONFIG_FRAG_H

#include <stdbool.h>
#include <stddef.h>

#include <ktstr/util.h>

#define KCFG_TEXT_MAX (4u << 20)  /* an allyesconfig .config is ~300 KiB */
#define KCFG_LINE_MAX 4096u
#define KCFG_OPTS_MAX 32768u	  /* x86 has ~20000 symbols */
#define KCFG_NAME_MAX 128u
#define KCFG_VALUE_MAX 2048u

struct kcfg_opt {
	char *name;		/* without CONFIG_, owned */
	char *value;		/* "y", "m", "n" (not set), a number or "\"...\"", owned */
	char origin[96];	/* where it was set: "fragment.config:12", "ktstr" */
};

/* Options in the order they were first set; a hash index finds a name. */
struct kcfg {
	struct kcfg_opt *v;
	size_t n, cap;
	size_t *idx;		/* open addressing, SIZE_MAX = empty, owned */
	size_t idxcap;
};

/* Parse text (len bytes, not necessarily NUL-terminated) into c, each
 * option overriding an earlier one of the same name. origin names the
 * file in errors and in each option's origin. Returns 0, -EINVAL (err
 * says where and why), -E2BIG (a bound) or -ENOMEM. */
int kcfg_parse(struct kcfg *c, const char *text, size_t len, const char *origin, char *err,
	       size_t errlen);
/* Set name (without CONFIG_) to value: replaces an earlier setting in
 * place, else appends. Returns 0, -EINVAL (a name or value the parser
 * would refuse), -E2BIG or -ENOMEM. */
int kcfg_set(struct kcfg *c, const char *name, const char *value, const char *origin);
/* The option named name, or NULL. */
const struct kcfg_opt *kcfg_get(const struct kcfg *c, const char *name);
/* Every option of from into c, in from's order (from's settings win). */
int kcfg_merge(struct kcfg *c, const struct kcfg *from);
/* out = base's options that over does not name, then over's, in their
 * orders: what is written as .config before olddefconfig. The order
 * matters: among a choice's members read as y the last one wins (kconfig's
 * confdata.c), so an asked-for member (HZ_1000, DEBUG_INFO_DWARF5) must
 * come after the base's (HZ_250, DEBUG_INFO_NONE). out starts empty. */
int kcfg_overlay(const struct kcfg *base, const struct kcfg *over, struct kcfg *out);
/* c as config text: `CONFIG_X=v`, `# CONFIG_X is not set` for "n". */
int kcfg_render(const struct kcfg *c, struct strbuf *out);
/* What got (the config after olddefconfig) did not keep of want: one line
 * per option, "CONFIG_X=y (set by ORIGIN) became: not set". An option
 * asked to be n is kept when got lacks it (Kconfig hides it). Returns the
 * count (0: all kept) or -ENOMEM. */
int kcfg_unmet(const struct kcfg *want, const struct kcfg *got, struct strbuf *report);
void kcfg_free(struct kcfg *c);

#endif
