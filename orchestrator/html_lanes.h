/* The lanes of the HTML page (html_lanes.c). */
#ifndef KTSTR_ORCH_HTML_LANES_H
#define KTSTR_ORCH_HTML_LANES_H

#include <ktstr/util.h>

struct json_object;

/* A finite number at key of o, else dflt. */
double html_num_or(struct json_object *o, const char *key, double dflt);
/* The monitor's lanes of rec (vm.monitor.cpu_lanes): nothing when it has
 * none. 0 or -ENOMEM. */
int html_cpu_lanes(struct strbuf *sb, struct json_object *rec, const char *name);
/* The workers' longest gaps of rec on a lane per CPU: nothing without
 * workers. 0 or -ENOMEM. */
int html_gap_lanes(struct strbuf *sb, struct json_object *rec, const char *name);

#endif
