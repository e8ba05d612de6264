/* main() of a program linked with libktstr (this object is libktstr_main.a,
 * always static): the registry is the "ktstr_tests" section of the program
 * itself, whose bounds only the program's own link defines. Weak, so a
 * program with no test still links (and lists nothing). */
#include <ktstr/ktstr.h>

extern const struct ktstr_test __start_ktstr_tests[] __attribute__((weak));
extern const struct ktstr_test __stop_ktstr_tests[] __attribute__((weak));

int main(int argc, char **argv)
{
	return ktstr_main(__start_ktstr_tests, __stop_ktstr_tests, argc, argv);
}
