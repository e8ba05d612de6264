/* Images from ktstr-initramfs-builder boot a real kernel under QEMU (TCG,
 * PVH entry) for every compression, with an orchestrator-style suffix
 * archive appended: the guest sees the sentinel, the suffix file, and runs
 * a dynamically linked program from the packed library closure. One VM at
 * a time, each bounded by `timeout`. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ktstr/cpio.h"
#include "ktstr/spawn.h"
#include "ktstr/util.h"

#include "builder_client.h"
#include "lib/vmtest.h"

#define BOOT_TIMEOUT_S 120

static const char init_src[] =
	"#include <fcntl.h>\n#include <stdio.h>\n#include <string.h>\n#include <unistd.h>\n"
	"#include <sys/mount.h>\n#include <sys/reboot.h>\n#include <sys/wait.h>\n"
	"int main(void){char b[256],s[64]={0};int fd,st=-1,n;pid_t p;\n"
	" mount(\"devtmpfs\",\"/dev\",\"devtmpfs\",0,0);\n"
	" fd=open(\"/dev/ttyS0\",O_WRONLY|O_NOCTTY);\n"
	" n=open(\"/suffix\",O_RDONLY); if(n>=0){read(n,s,63);close(n);} s[strcspn(s,\"\\n\")]=0;\n"
	" p=fork(); if(!p){execl(\"/bin/true\",\"true\",(char*)0);_exit(99);}\n"
	" if(p>0)waitpid(p,&st,0);\n"
	" n=snprintf(b,sizeof b,\"\\nKTSTR_BOOT sentinel=%d suffix=%s true=%d\\n\",\n"
	"   access(\"/.ktstr_init_ok\",F_OK)==0,s[0]?s:\"none\",WIFEXITED(st)?WEXITSTATUS(st):-1);\n"
	" write(fd,b,n); fsync(fd); sync(); reboot(RB_POWER_OFF); return 0;}\n";

static const char *kernel_path(void)
{
	static char k[1024];

	if (vmtest_kernel("vmlinux", k, sizeof(k)))
		return "(no kernel: set KTSTR_TEST_KERNEL)";
	return k;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* Write image + suffix (compressed with `lz4 -l` when the base is LZ4: the
 * kernel's unlz4 reads to the end, so an uncompressed archive cannot follow
 * an LZ4 one) to dir/initrd. */
static void write_initrd(const char *dir, int imgfd, size_t imglen, int comp)
{
	struct cpio_writer w;
	char path[PATH_MAX];
	uint8_t *img, *suf;
	size_t suflen;
	int fd;

	img = mmap(NULL, imglen, PROT_READ, MAP_SHARED, imgfd, 0);
	cr_assert_neq(img, MAP_FAILED);
	cpio_init(&w, 1000000);
	cr_assert_eq(cpio_add_file(&w, "/suffix", 0644, "hello-suffix\n", 13), 0);
	cr_assert_eq(cpio_finish(&w), 0);
	cr_assert_eq(cpio_pad(&w, 512), 0);
	cpio_take(&w, &suf, &suflen);
	snprintf(path, sizeof(path), "%s/suffix.cpio", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_eq(write_full(fd, suf, suflen), 0);
	close(fd);
	free(suf);
	snprintf(path, sizeof(path), "%s/initrd", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_eq(write_full(fd, img, imglen), 0);
	close(fd);
	munmap(img, imglen);
	if (comp == KTSTR__COMPRESSION__COMPRESSION_LZ4)
		cr_assert_eq(sh("lz4 -l -q -c %s/suffix.cpio >> %s/initrd", dir, dir), 0);
	else
		cr_assert_eq(sh("cat %s/suffix.cpio >> %s/initrd", dir, dir), 0);
}

Test(builder_boot, every_compression_boots_with_suffix, .timeout = 900)
{
	static const char *const names[] = { "none", "gzip", "lz4" };
	Ktstr__BuildRequest req = KTSTR__BUILD_REQUEST__INIT;
	Ktstr__FileSpec fs = KTSTR__FILE_SPEC__INIT;
	Ktstr__FileSpec *files[] = { &fs };
	struct builder_client_opts o = { 0 };
	struct builder_client bc;
	char dir[] = "/tmp/ktstr-ib-boot-XXXXXX", init[PATH_MAX], bin[PATH_MAX], self[PATH_MAX];
	char err[1024];
	int comp;

	if (access(kernel_path(), R_OK) || access("/usr/bin/qemu-system-x86_64", X_OK))
		test_missing("needs %s and qemu-system-x86_64", kernel_path());
	cr_assert(mkdtemp(dir));
	snprintf(init, sizeof(init), "%s/init.c", dir);
	{
		int fd = open(init, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		cr_assert_eq(write_full(fd, init_src, strlen(init_src)), 0);
		close(fd);
	}
	cr_assert_eq(sh("gcc -static -O1 -o %s/init %s/init.c", dir, dir), 0, "static init build");
	snprintf(init, sizeof(init), "%s/init", dir);
	cr_assert_eq(ktstr_self_dir(self, sizeof(self)), 0);
	snprintf(bin, sizeof(bin), "%.3900s/../bin/ktstr-initramfs-builder", self);
	o.builder_path = bin;
	o.cache_dir = dir;
	o.stderr_fd = -2;
	cr_assert_eq(builder_client_start(&bc, &o, err, sizeof(err)), 0, "%s", err);
	fs.host_path = "/bin/true";	/* dynamic: needs the closure in the guest */
	fs.guest_path = "/bin/true";
	req.init_path = init;
	req.files = files;
	req.n_files = 1;
	req.has_compression = 1;
	for (comp = 0; comp < 3; comp++) {
		struct builder_image img;
		char cmd[4096], *out = NULL, marker[128];
		size_t outlen;

		req.compression = (Ktstr__Compression)comp;
		cr_assert_eq(builder_client_build(&bc, &req, 0, &img, err, sizeof(err)), 0, "%s", err);
		/* The image that boots came from a confined builder. */
		cr_assert(img.ok->has_sandboxed && img.ok->sandboxed, "builder must run confined");
		write_initrd(dir, img.fd, img.ok->image_size, comp);
		builder_image_free(&img);
		snprintf(cmd, sizeof(cmd),
			 "timeout %d qemu-system-x86_64 -accel tcg -cpu max -smp 1 -m 256 "
			 "-nodefaults -no-user-config -nographic -no-reboot -serial file:%s/console "
			 "-kernel %s -initrd %s/initrd -append 'console=ttyS0 panic=-1 quiet "
			 "rdinit=/init cryptomgr.notests i8042.noaux i8042.nomux i8042.nopnp "
			 "i8042.dumbkbd no_timer_check tsc=reliable nokaslr mitigations=off' "
			 "> /dev/null 2>&1", BOOT_TIMEOUT_S, dir, kernel_path(), dir);
		sh("%s", cmd);
		snprintf(cmd, sizeof(cmd), "%s/console", dir);
		cr_assert_eq(read_file(cmd, &out, &outlen, 16 << 20), 0, "no console output (%s)",
			     names[comp]);
		snprintf(marker, sizeof(marker), "KTSTR_BOOT sentinel=1 suffix=hello-suffix true=0");
		cr_assert(strstr(out, marker), "%s image: guest did not report '%s'; console:\n%s",
			  names[comp], marker, out);
		cr_log_info("%s image booted", names[comp]);
		free(out);
	}
	cr_assert_eq(builder_client_stop(&bc), 0);
	sh("rm -rf %s", dir);
}
