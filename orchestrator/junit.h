/* JUnit XML (the dialect Jenkins/GitLab/Codecov read) and the JSON record
 * file of a run. Both are written to a temp file beside the target and
 * renamed into place, so a reader never sees half a file. */
#ifndef KTSTR_ORCH_JUNIT_H
#define KTSTR_ORCH_JUNIT_H

#include <stddef.h>

#include <ktstr/util.h>

#include "record.h"
#include "suite.h"

/* Append s escaped for XML character data / attributes. Characters XML 1.0
 * forbids (most controls, invalid UTF-8) become U+FFFD. */
int xml_escape(struct strbuf *sb, const char *s, size_t len);

int junit_render(struct strbuf *sb, const struct suite *s, const struct plan *p,
		 const struct test_record *r, size_t n);
int json_render(struct strbuf *sb, const struct suite *s, const struct plan *p,
		const struct test_record *r, size_t n);
#endif
