/* Reading `ktstr-orch shell --result-json` into a struct ktstr_vm_result
 * (format: include/ktstr/shell_result.h). The file is ktstr-orch's, but the
 * output in it is the guest's: every field is bounded and typed, and
 * anything else is refused, never guessed. */
#ifndef KTSTR_LIB_VM_RESULT_H
#define KTSTR_LIB_VM_RESULT_H

#include <stddef.h>

#include <ktstr/ktstr.h>

/* Parse len bytes of JSON into *out (zeroed first; free it with
 * ktstr_vm_result_free even on error). 0, or -EPROTO / -EFBIG / -ENOMEM
 * with err saying what is wrong. */
int ktstr_vm_result_parse(const char *json, size_t len, struct ktstr_vm_result *out, char *err,
			  size_t errlen);
/* Read the file at path (regular, at most KTSTR_SR_FILE_MAX bytes) and
 * parse it. 0 or -errno, err set. */
int ktstr_vm_result_read(const char *path, struct ktstr_vm_result *out, char *err,
			 size_t errlen);

#endif
