/* libktstr's private interfaces (the public one is ktstr/ktstr.h). */
#ifndef KTSTR_LIB_RENDER_H
#define KTSTR_LIB_RENDER_H

#include <stdio.h>

#include <ktstr/ktstr.h>

/* Write the tests [begin, end) and the schedulers they name as a suite file
 * whose tests are c_test: {binary: self, function: NAME}. 0, or -errno with
 * err set (a definition no suite could hold) or -EIO (f failed). */
int ktstr_render_suite(FILE *f, const struct ktstr_test *begin, const struct ktstr_test *end,
		       const char *self, char *err, size_t errlen);

/* The guest role: run test name's function in this VM, write its result
 * where the guest reads it (KTSTR_CTEST_RESULT_PATH) and return the exit
 * status (0: a result was written). */
int ktstr_guest_run(const struct ktstr_test *begin, const struct ktstr_test *end,
		    const char *name);

#endif
