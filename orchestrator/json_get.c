/* See json_get.h. */
#include "json_get.h"

#include <math.h>
#include <string.h>

struct json_object *rj_obj(struct json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

struct json_object *rj_arr(struct json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

const char *rj_str(struct json_object *o, const char *key, size_t max)
{
	json_object *v;
	const char *s;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	/* Exactly its length: a \u0000 inside would cut the string short. */
	if ((size_t)json_object_get_string_len(v) != strlen(s) || strlen(s) > max)
		return NULL;
	return s;
}

bool rj_num(struct json_object *o, const char *key, double *out, bool *finite)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return false;
	if (json_object_is_type(v, json_type_int))
		*out = (double)json_object_get_int64(v);
	else if (json_object_is_type(v, json_type_double))
		*out = json_object_get_double(v);
	else
		return false;
	*finite = isfinite(*out);
	return true;
}
