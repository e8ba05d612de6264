# ktstr build. Everything is discovered by wildcard: a component is a folder
# whose main.c becomes the binary and whose other .c files (including arch
# subfolders) become lib<component>.a, which its unit tests link against.
#
#   make            build all binaries into $(BUILD)/bin
#   make test       unit tests, then integration tests (VM tests included)
#   make test-unit  criterion unit tests only
#   make test-vm    integration tests only
#   make asan       build and unit-test with ASan+UBSan into build-asan/
#   make bench      benchmarks (figures printed, never asserted)
#   make setup      install Debian packages, build, fetch the default kernel
#   make install    into $(DESTDIR)$(PREFIX) (default /usr/local); make uninstall

BUILD ?= build
# make's built-in default is cc; an explicit CC (environment or command line) wins.
ifeq ($(origin CC),default)
CC := gcc
endif
ARCH := $(shell uname -m)

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter \
	-Wno-missing-field-initializers
# `make CFLAGS=-O0` replaces only the optimisation default: what the build
# needs (standard, warnings as errors, include paths, dependency files) is
# appended with override, so a command-line CFLAGS cannot drop it.
CFLAGS ?= -O2 -g
override CFLAGS += -std=gnu11 $(WARN) -D_GNU_SOURCE -fno-strict-aliasing -pipe \
	-Iinclude -Isandbox -I$(BUILD)/proto -MMD -MP
LDFLAGS ?=
HOST_LIBS := -Wl,--as-needed -lfdt -ljson-c -lnettle -lyaml -lbpf -lelf -lseccomp -lcap -llz4 -lzstd -llzma -lprotobuf-c -lz -lpthread -lm
GUEST_LIBS := -lprotobuf-c -lz -lpthread -lm

ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
override CFLAGS += $(SANFLAGS)
override LDFLAGS += $(SANFLAGS)
endif

# ---- generated protobuf code ------------------------------------------------
PROTOS := $(wildcard proto/*.proto)
PROTO_C := $(patsubst proto/%.proto,$(BUILD)/proto/%.pb-c.c,$(PROTOS))
PROTO_H := $(PROTO_C:.c=.h)
PROTO_O := $(PROTO_C:.c=.o)

# One protoc-c run generates every file; the stamp keeps make from running it
# once per output or deleting the headers as intermediates.
$(BUILD)/proto/.stamp: $(PROTOS)
	@mkdir -p $(BUILD)/proto
	protoc-c --proto_path=proto --c_out=$(BUILD)/proto $(PROTOS)
	@touch $@
$(PROTO_C) $(PROTO_H): $(BUILD)/proto/.stamp ;
.SECONDARY:

# Generated code is not ours to lint: only -Werror on real errors.
$(BUILD)/proto/%.pb-c.o: $(BUILD)/proto/%.pb-c.c $(PROTO_H)
	$(CC) $(filter-out -Werror -Wshadow -Wextra,$(CFLAGS)) -c -o $@ $<

$(BUILD)/libktstr-proto.a: $(PROTO_O)
	@rm -f $@; ar rcs $@ $^

# ---- components ---------------------------------------------------------------
# Every .c under a component folder, at any depth (engine rooms such as
# vmm-worker/kvm/ and vmm-worker/qemu/), except folders named after another
# architecture: vmm-worker/x86_64/ builds only on x86_64. Basenames are unique
# per component (ar keeps one member per name).
# vmm-worker/kvm/'s kvm_*.c drive x86's KVM (CPUID, MSRs, LAPIC, PIT,
# segment registers) and are x86_64's too; its device models (uart16550.c,
# which the arm64 KVM engine also uses, i8042.c, ioapic.c) are plain C and
# build everywhere.
ARCHES := x86_64 aarch64
ONLY_ON_x86_64 := vmm-worker/kvm/kvm_%.c
ONLY_ON_aarch64 :=
OTHER_ARCH_DIRS = $(foreach a,$(filter-out $(ARCH),$(ARCHES)),$(1)/$(a)/% $(ONLY_ON_$(a)))
srcs_of = $(filter-out $(call OTHER_ARCH_DIRS,$(1)),$(sort $(shell find $(1) -name '*.c')))
lib_srcs_of = $(filter-out $(1)/main.c,$(call srcs_of,$(1)))
objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

COMMON_O := $(call objs,$(wildcard common/*.c))
SANDBOX_O := $(call objs,$(call srcs_of,sandbox))
# ---- version -------------------------------------------------------------------
# VERSION plus the git commit when built from a checkout (include/ktstr/version.h).
# The stamp is rewritten only when the string changes, so only version.o rebuilds.
KTSTR_VERSION := $(strip $(shell cat VERSION))$(shell git rev-parse --short HEAD >/dev/null 2>&1 && \
	printf '+g%s' "$$(git rev-parse --short HEAD)" && \
	{ git diff --quiet HEAD -- 2>/dev/null || printf '.dirty'; })
$(BUILD)/version.stamp: FORCE
	@mkdir -p $(dir $@); printf '%s\n' '$(KTSTR_VERSION)' | cmp -s - $@ || printf '%s\n' '$(KTSTR_VERSION)' > $@
$(BUILD)/obj/common/version.o: $(BUILD)/version.stamp
$(BUILD)/obj/common/version.o: override CFLAGS += -DKTSTR_VERSION='"$(KTSTR_VERSION)"'
FORCE:
.PHONY: FORCE

$(BUILD)/libktstr-common.a: $(COMMON_O)
	@rm -f $@; ar rcs $@ $^
$(BUILD)/libktstr-sandbox.a: $(SANDBOX_O) $(BUILD)/obj/empty.o
	@rm -f $@; ar rcs $@ $^

BASELIBS := $(BUILD)/libktstr-sandbox.a $(BUILD)/libktstr-common.a $(BUILD)/libktstr-proto.a

# component dir -> binary name
BIN_orchestrator := ktstr-orch
BIN_vmm-worker := ktstr-vmm-worker
BIN_initramfs-builder := ktstr-initramfs-builder
BIN_guest := ktstr-guest
HOST_COMPONENTS := orchestrator vmm-worker initramfs-builder
COMPONENTS := $(HOST_COMPONENTS) guest

define component_rules
$(1)_LIB_O := $$(call objs,$$(call lib_srcs_of,$(1)))
$(BUILD)/lib$(1).a: $$($(1)_LIB_O) $(BUILD)/obj/empty.o
	@rm -f $$@; ar rcs $$@ $$^
endef
$(foreach c,$(COMPONENTS),$(eval $(call component_rules,$(c))))

$(BUILD)/obj/empty.o:
	@mkdir -p $(dir $@); echo 'typedef int ktstr_empty_tu;' | $(CC) -x c -c -o $@ -

# `kernel fetch --arch arm64` checks an Image with the worker's own header
# parser: one source, linked into both.
$(BUILD)/liborchestrator.a: $(BUILD)/obj/vmm-worker/arm64-guest/arm64_image.o
$(BUILD)/obj/orchestrator/kernel_fetch_arm64.o: override CFLAGS += -Ivmm-worker
$(BUILD)/obj/orchestrator/kernel_layout_arm64.o: override CFLAGS += -Ivmm-worker

# Host binaries: dynamic, with the sanitizers in SAN builds. -I<component> lets
# a component include its private headers by name.
$(BUILD)/bin/ktstr-orch: $(BUILD)/obj/orchestrator/main.o $(BUILD)/liborchestrator.a $(BASELIBS)
	@mkdir -p $(dir $@); $(CC) $(LDFLAGS) -o $@ $^ $(HOST_LIBS)
$(BUILD)/bin/ktstr-vmm-worker: $(BUILD)/obj/vmm-worker/main.o $(BUILD)/libvmm-worker.a $(BASELIBS)
	@mkdir -p $(dir $@); $(CC) $(LDFLAGS) -o $@ $^ $(HOST_LIBS)
$(BUILD)/bin/ktstr-initramfs-builder: $(BUILD)/obj/initramfs-builder/main.o $(BUILD)/libinitramfs-builder.a $(BASELIBS)
	@mkdir -p $(dir $@); $(CC) $(LDFLAGS) -o $@ $^ $(HOST_LIBS)

# The guest is PID 1 in a VM: static, never sanitized (ASan cannot run as a
# static PID 1), built from its own object tree per guest architecture by
# guest_rules below: the host's own (x86_64 on CI) with $(CC) into
# $(BUILD)/bin/ktstr-guest, and arm64 with GUEST_CC_arm64 into
# $(BUILD)/bin/arm64/ktstr-guest: arm64/ktstr-guest beside the host's guest,
# the layout ktstr-orch's helper lookup expects (docs/aarch64.md).
GUEST_CFLAGS := $(filter-out $(SANFLAGS),$(CFLAGS))
# srcs_of for a guest architecture: that architecture's folders, not the host's.
guest_srcs_of = $(filter-out $(foreach a,$(filter-out $(2),$(ARCHES)),$(1)/$(a)/%),$(sort $(shell find $(1) -name '*.c')))

# $(call guest_rules,OBJDIR,BIN,COMPILER,AR,ARCH): objects under OBJDIR (guest/,
# common/ as an archive, so the guest takes only the objects it uses, not
# the host's gzip/LZ4 image writers, and the protobuf-c code), linked
# -static into BIN with GUEST_LIBS.
define guest_rules
$(1)/common/version.o: $(BUILD)/version.stamp
$(1)/common/version.o: GUEST_CFLAGS += -DKTSTR_VERSION='"$(KTSTR_VERSION)"'
$(1)/libktstr-common.a: $(patsubst %.c,$(1)/%.o,$(wildcard common/*.c))
	@rm -f $$@; $(4) rcs $$@ $$^
$(1)/proto/%.o: $(BUILD)/proto/%.pb-c.c $(PROTO_H)
	@mkdir -p $$(dir $$@); $(3) $$(filter-out -Werror -Wshadow -Wextra,$$(GUEST_CFLAGS)) -c -o $$@ $$<
$(1)/%.o: %.c $(PROTO_H)
	@mkdir -p $$(dir $$@); $(3) $$(GUEST_CFLAGS) -Iguest -c -o $$@ $$<
$(2): $(patsubst %.c,$(1)/%.o,$(call guest_srcs_of,guest,$(5))) \
		$(patsubst $(BUILD)/proto/%.pb-c.c,$(1)/proto/%.o,$(PROTO_C)) $(1)/libktstr-common.a
	@mkdir -p $$(dir $$@); $(3) -static -o $$@ $$^ $(GUEST_LIBS)
endef
$(eval $(call guest_rules,$(BUILD)/guest-obj,$(BUILD)/bin/ktstr-guest,$$(CC),ar,$(ARCH)))

# The arm64 guest, with Debian's cross compiler (gcc-aarch64-linux-gnu) and
# the arm64 multiarch libraries (libprotobuf-c-dev:arm64, zlib1g-dev:arm64),
# which scripts/install-deps installs; an aarch64 host builds it natively.
# Where the compiler or a library is missing, `make all` skips it and says
# so once (ARM64_GUEST_MISSING names what is missing).
GUEST_CC_arm64 ?= $(if $(filter aarch64,$(ARCH)),$(CC),aarch64-linux-gnu-gcc)
GUEST_AR_arm64 ?= $(if $(filter aarch64,$(ARCH)),ar,aarch64-linux-gnu-ar)
ARM64_GUEST := $(BUILD)/bin/arm64/ktstr-guest
ARM64_GUEST_MISSING := $(strip $(if $(shell command -v $(GUEST_CC_arm64) 2>/dev/null),\
	$(foreach l,protobuf-c z c m pthread,$(if $(filter /%,$(shell $(GUEST_CC_arm64) -print-file-name=lib$(l).a 2>/dev/null)),,lib$(l).a)),\
	$(GUEST_CC_arm64)))
$(if $(ARM64_GUEST_MISSING),,$(eval $(call guest_rules,$(BUILD)/guest-obj-arm64,$(ARM64_GUEST),$(GUEST_CC_arm64),$(GUEST_AR_arm64),aarch64)))
ARM64_GUEST_TARGET := $(if $(ARM64_GUEST_MISSING),arm64-guest-skipped,$(ARM64_GUEST))
arm64-guest-skipped:
	@echo "make: arm64 guest skipped ($(ARM64_GUEST) not built): $(ARM64_GUEST_MISSING) not found; scripts/install-deps installs gcc-aarch64-linux-gnu, libprotobuf-c-dev:arm64 and zlib1g-dev:arm64"
.PHONY: arm64-guest-skipped
arm64-guest: $(ARM64_GUEST_TARGET)
.PHONY: arm64-guest
# The unit test of the built arm64 guest (tests/unit/guest/arm64_elf_test.c)
# is told what was missing, so it skips with that reason, and fails where
# the guest should have been built; the stamp rebuilds it when that changes.
$(BUILD)/arm64-guest.stamp: FORCE
	@mkdir -p $(dir $@); printf '%s\n' '$(ARM64_GUEST_MISSING)' | cmp -s - $@ || printf '%s\n' '$(ARM64_GUEST_MISSING)' > $@
$(BUILD)/obj/tests/unit/guest/arm64_elf_test.o: $(BUILD)/arm64-guest.stamp
$(BUILD)/obj/tests/unit/guest/arm64_elf_test.o: override CFLAGS += -DKTSTR_ARM64_GUEST_MISSING='"$(ARM64_GUEST_MISSING)"'
# The ring's cases (tests/unit/common/ring_cases.c) built for aarch64, run
# under qemu-aarch64-static by scripts/arm64-ring-lane (scripts/run-tests).
ARM64_TEST_BINS := $(if $(ARM64_GUEST_MISSING),,$(BUILD)/tests/arm64/ring-cases)
$(BUILD)/tests/arm64/ring-cases: $(BUILD)/guest-obj-arm64/tests/arm64/ring_cases_main.o \
		$(BUILD)/guest-obj-arm64/tests/unit/common/ring_cases.o $(BUILD)/guest-obj-arm64/libktstr-common.a
	@mkdir -p $(dir $@); $(GUEST_CC_arm64) -static -o $@ $^ $(GUEST_LIBS)
$(BUILD)/guest-obj-arm64/tests/arm64/ring_cases_main.o: GUEST_CFLAGS += -Itests/unit/common
# The arm64 KVM engine (vmm-worker/aarch64/, which the worker builds only on
# aarch64 hosts) cross-built with the recording fake of its syscall door
# (tests/arm64/kvm_fake.c in place of a64_sys.c), run under
# qemu-aarch64-static by scripts/arm64-kvm-lane. Needs the arm64 KVM headers
# (linux-libc-dev:arm64) and arm64's libfdt.so.1 (libfdt1:arm64). Linked
# dynamically: Debian's libfdt-dev is not multiarch (the arm64 one would
# replace the host's, which the worker needs), so there is no arm64 libfdt.a;
# the header is architecture-independent and the cross compiler finds the
# host's /usr/include/libfdt.h.
ARM64_KVM_MISSING := $(if $(ARM64_GUEST_MISSING),$(ARM64_GUEST_MISSING),$(strip \
	$(if $(filter /%,$(shell $(GUEST_CC_arm64) -print-file-name=libfdt.so.1 2>/dev/null)),,libfdt.so.1) \
	$(if $(shell echo '\#include <asm/kvm.h>' | $(GUEST_CC_arm64) -E -x c - >/dev/null 2>&1 && echo ok),,asm/kvm.h)))
# a64_engine.c is the worker's entry (engine.h, vm_monitor.h): not the lane's.
ARM64_KVM_OBJS := $(patsubst %.c,$(BUILD)/guest-obj-arm64/%.o,$(filter-out vmm-worker/aarch64/a64_sys.c vmm-worker/aarch64/a64_engine.c,\
	$(wildcard vmm-worker/aarch64/*.c)) vmm-worker/kvm/uart16550.c $(wildcard vmm-worker/arm64-guest/*.c) \
	vmm-worker/vcpu_pool.c tests/arm64/kvm_fake.c tests/arm64/kvm_cases.c sandbox/policy_worker_vcpu.c)
ARM64_TEST_BINS += $(if $(ARM64_KVM_MISSING),,$(BUILD)/tests/arm64/kvm-cases)
# a64_sys.o (the real syscalls) is compiled, so it builds here too, but not
# linked: the fake takes its place.
$(BUILD)/tests/arm64/kvm-cases: $(ARM64_KVM_OBJS) $(BUILD)/guest-obj-arm64/libktstr-common.a \
		$(BUILD)/guest-obj-arm64/vmm-worker/aarch64/a64_sys.o
	@mkdir -p $(dir $@); $(GUEST_CC_arm64) -o $@ $(filter-out %/a64_sys.o,$^) -l:libfdt.so.1 $(GUEST_LIBS)
$(ARM64_KVM_OBJS) $(BUILD)/guest-obj-arm64/vmm-worker/aarch64/a64_sys.o: GUEST_CFLAGS += -Ivmm-worker
# The arm64 KVM engine through the worker (docs/aarch64.md, "The arm64 KVM
# engine through the worker (fake KVM)"): the real ktstr-vmm-worker as an
# aarch64 host links it, but with the fake's KVM door (tests/arm64/kvm_fake.c,
# its scripts given at run time) in place of a64_sys.c, driven over its
# control socket by $(BUILD)/tests/arm64/kvm-worker-cases (native, criterion)
# under qemu-aarch64-static. scripts/arm64-kvm-worker-lane makes the worker
# in the make scripts/arm64-host-build runs (ARCH=aarch64, the cross
# compiler, BUILD=$(BUILD)/arm64-host): the same objects and source
# selection, the worker's own link line, kvm_fake.o first so the archive's
# a64_sys.o is never pulled. Its libraries by soname (-l:libNAME.so.N), as
# kvm-cases links libfdt: their arm64 -dev packages are not co-installable
# with the host's, their runtime packages are (scripts/install-deps).
# --as-needed keeps only those the worker calls; the arm64 link refuses a
# missing one.
ARM64_WORKER_SOLIBS := libfdt.so.1 libseccomp.so.2 libcap.so.2 libprotobuf-c.so.1 libz.so.1
ifeq ($(ARCH),aarch64)
$(BUILD)/bin/ktstr-vmm-worker-fake-kvm: $(BUILD)/obj/vmm-worker/main.o $(BUILD)/fake-kvm/kvm_fake.o \
		$(BUILD)/libvmm-worker.a $(BASELIBS)
	@mkdir -p $(dir $@); $(CC) $(LDFLAGS) -o $@ $^ -Wl,--as-needed \
		$(addprefix -l:,$(ARM64_WORKER_SOLIBS)) -lpthread -lm
# Outside obj/, which holds the host objects arm64-host-build counts.
$(BUILD)/fake-kvm/kvm_fake.o: tests/arm64/kvm_fake.c $(PROTO_H)
	@mkdir -p $(dir $@); $(CC) $(CFLAGS) -Ivmm-worker -c -o $@ $<
fake-kvm-worker: $(BUILD)/bin/ktstr-vmm-worker-fake-kvm
.PHONY: fake-kvm-worker
endif
# For the lane's check that each library's arm64 runtime is installed.
print-arm64-worker-solibs:
	@echo $(ARM64_WORKER_SOLIBS)
.PHONY: print-arm64-worker-solibs
# The test that drives it: built for this host, with the integration tests'
# helpers (INTEG_LIB_O, defined further down) and the orchestrator's worker
# client.
$(BUILD)/tests/arm64/kvm-worker-cases: $(BUILD)/obj/tests/arm64/kvm_worker_cases.o \
		$(call objs,$(wildcard tests/integration/lib/*.c)) \
		$(BUILD)/liborchestrator.a $(BUILD)/libvmm-worker.a $(BASELIBS)
	@mkdir -p $(dir $@); $(CC) $(LDFLAGS) -o $@ $^ -lcriterion $(HOST_LIBS)
$(BUILD)/obj/tests/arm64/kvm_worker_cases.o: override CFLAGS += -Itests/integration -Ivmm-worker -Iorchestrator
tests-build: $(BUILD)/tests/arm64/kvm-worker-cases

$(BUILD)/obj/%.o: %.c $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I$(firstword $(subst /, ,$*)) -c -o $@ $<

# Every object of the host binaries (common/, sandbox/, each host component's
# library and main.o), for this host's ARCH: scripts/arm64-host-build makes
# it with ARCH=aarch64 and the cross compiler (compile only, no link).
HOST_OBJS := $(PROTO_O) $(COMMON_O) $(SANDBOX_O) $(foreach c,$(HOST_COMPONENTS),$($(c)_LIB_O) $(BUILD)/obj/$(c)/main.o)
host-objs: $(HOST_OBJS)
.PHONY: host-objs
# The library names of HOST_LIBS (fdt json-c ...), for scripts/arm64-host-build.
print-host-libs:
	@echo $(patsubst -l%,%,$(filter -l%,$(HOST_LIBS)))
.PHONY: print-host-libs

BINS := $(foreach c,$(COMPONENTS),$(BUILD)/bin/$(BIN_$(c)))
all: $(BINS) $(BUILD)/bin/ktstr-tiny-guests $(ARM64_GUEST_TARGET)
.DEFAULT_GOAL := all

# ---- libktstr: the C test API (docs/c-api.md) ----------------------------------
# libktstr.a / libktstr.so hold the host role (libktstr/: render a suite, run
# ktstr-orch) and the guest role, which is the guest's own scenario engine
# (guest/*.c but main.c, with common/ and the protobuf code) built
# position-independent; libktstr_main.a holds main(), always static, since
# only the program's own link defines its test registry's bounds.
LIB_DIR := $(BUILD)/lib
KTSTR_SOVERSION := 0
LIB_PIC_CFLAGS = $(GUEST_CFLAGS) -fPIC
LIBKTSTR_SRCS := $(filter-out libktstr/entry.c,$(wildcard libktstr/*.c))
LIBKTSTR_CORE_O := $(patsubst %.c,$(BUILD)/lib-obj/%.o,$(LIBKTSTR_SRCS) \
	$(filter-out guest/main.c guest/shell.c,$(call srcs_of,guest)))
LIBKTSTR_BASE_O := $(patsubst %.c,$(BUILD)/lib-obj/%.o,$(wildcard common/*.c)) \
	$(patsubst $(BUILD)/proto/%.pb-c.c,$(BUILD)/lib-obj/proto/%.o,$(PROTO_C))
LIBKTSTR_O := $(LIBKTSTR_CORE_O) $(LIBKTSTR_BASE_O)
LIBKTSTR_LIBS := -ljson-c -lprotobuf-c -lz -lpthread -lm
$(BUILD)/lib-obj/common/version.o: $(BUILD)/version.stamp
$(BUILD)/lib-obj/common/version.o: GUEST_CFLAGS += -DKTSTR_VERSION='"$(KTSTR_VERSION)"'
# Built as the guest's own objects are (no sanitizer: a C test program runs in
# the guest), position-independent.
$(BUILD)/lib-obj/libktstr/%.o: libktstr/%.c $(PROTO_H)
	@mkdir -p $(dir $@); $(CC) $(LIB_PIC_CFLAGS) -Iguest -Ilibktstr -c -o $@ $<
$(BUILD)/lib-obj/guest/%.o: guest/%.c $(PROTO_H)
	@mkdir -p $(dir $@); $(CC) $(LIB_PIC_CFLAGS) -Iguest -c -o $@ $<
$(BUILD)/lib-obj/common/%.o: common/%.c $(PROTO_H)
	@mkdir -p $(dir $@); $(CC) $(LIB_PIC_CFLAGS) -c -o $@ $<
$(BUILD)/lib-obj/proto/%.o: $(BUILD)/proto/%.pb-c.c $(PROTO_H)
	@mkdir -p $(dir $@); $(CC) $(filter-out -Werror -Wshadow -Wextra,$(LIB_PIC_CFLAGS)) -c -o $@ $<
$(LIB_DIR)/libktstr.a: $(LIBKTSTR_O)
	@mkdir -p $(dir $@); rm -f $@; ar rcs $@ $^
# common/ and the protobuf code as an archive: the shared library takes only
# the members the engine uses (not the host's image compressors), and
# --no-undefined proves its DT_NEEDED list is complete. It exports the public
# API only (libktstr/libktstr.map); the guest engine's names stay inside.
$(BUILD)/lib-obj/libbase-pic.a: $(LIBKTSTR_BASE_O)
	@rm -f $@; ar rcs $@ $^
$(LIB_DIR)/libktstr.so: $(LIB_DIR)/libktstr.so.$(KTSTR_SOVERSION)
	ln -sf libktstr.so.$(KTSTR_SOVERSION) $@
$(LIB_DIR)/libktstr.so.$(KTSTR_SOVERSION): $(LIBKTSTR_CORE_O) $(BUILD)/lib-obj/libbase-pic.a libktstr/libktstr.map
	@mkdir -p $(dir $@); $(CC) $(filter-out $(SANFLAGS),$(LDFLAGS)) -shared -Wl,-soname,libktstr.so.$(KTSTR_SOVERSION) \
		-Wl,--no-undefined -Wl,--version-script,libktstr/libktstr.map -o $@ \
		$(LIBKTSTR_CORE_O) $(BUILD)/lib-obj/libbase-pic.a $(LIBKTSTR_LIBS)
$(LIB_DIR)/libktstr_main.a: $(BUILD)/lib-obj/libktstr/entry.o
	@mkdir -p $(dir $@); rm -f $@; ar rcs $@ $^
$(LIB_DIR)/ktstr.pc: libktstr/ktstr.pc.in VERSION Makefile
	@mkdir -p $(dir $@); sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(strip $(shell cat VERSION))|' \
		-e 's|@LIBS@|$(LIBKTSTR_LIBS)|' $< > $@
LIBKTSTR := $(LIB_DIR)/libktstr.a $(LIB_DIR)/libktstr.so $(LIB_DIR)/libktstr_main.a $(LIB_DIR)/ktstr.pc
lib: $(LIBKTSTR)

# examples/c/*.c -> one test program each, linked as a user would: the
# static library (ktstr-example-NAME) and the shared one
# (ktstr-example-NAME-shared, RUNPATH to the build's lib directory).
EXAMPLE_C_SRCS := $(wildcard examples/c/*.c)
EXAMPLE_C_BINS := $(patsubst examples/c/%.c,$(BUILD)/examples/ktstr-example-%,$(EXAMPLE_C_SRCS))
EXAMPLE_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -pedantic -Iinclude
$(BUILD)/examples/ktstr-example-%: examples/c/%.c include/ktstr/ktstr.h $(LIB_DIR)/libktstr.a $(LIB_DIR)/libktstr_main.a
	@mkdir -p $(dir $@); $(CC) $(EXAMPLE_CFLAGS) -o $@ $< $(LIB_DIR)/libktstr_main.a \
		$(LIB_DIR)/libktstr.a $(LIBKTSTR_LIBS)
$(BUILD)/examples/ktstr-example-%-shared: examples/c/%.c include/ktstr/ktstr.h $(LIB_DIR)/libktstr.so $(LIB_DIR)/libktstr_main.a
	@mkdir -p $(dir $@); $(CC) $(EXAMPLE_CFLAGS) -o $@ $< $(LIB_DIR)/libktstr_main.a \
		-L$(LIB_DIR) -lktstr -Wl,-rpath,$(abspath $(LIB_DIR))
examples: $(EXAMPLE_C_BINS) $(addsuffix -shared,$(EXAMPLE_C_BINS))

# The C API's tests: the host role's renderer beside the orchestrator's
# parser and planner (tests/unit/orchestrator/test_capi.c), and a test
# program whose functions fail, crash and hang (tests/integration/capi.c).
$(BUILD)/tests/unit-orchestrator: $(addprefix $(BUILD)/lib-obj/libktstr/,render.o vm_result.o vm.o orch.o)
$(BUILD)/obj/tests/unit/orchestrator/test_capi.o: override CFLAGS += -Ilibktstr
$(BUILD)/tests/capi-faults: tests/integration/data/capi_faults.c include/ktstr/ktstr.h $(LIB_DIR)/libktstr.a $(LIB_DIR)/libktstr_main.a
	@mkdir -p $(dir $@); $(CC) $(EXAMPLE_CFLAGS) -o $@ $< $(LIB_DIR)/libktstr_main.a \
		$(LIB_DIR)/libktstr.a $(LIBKTSTR_LIBS)
# The VM builder's reader (unit) and the static program examples/c/vm_run.c
# runs in the guest (tests/integration/capi_vm.c).
$(BUILD)/obj/tests/unit/orchestrator/test_vm_result.o $(BUILD)/obj/tests/unit/orchestrator/test_shell_result.o: override CFLAGS += -Ilibktstr
$(BUILD)/tests/capi-vm-prog: tests/integration/data/capi_vm_prog.c
	@mkdir -p $(dir $@); $(CC) -O2 -Wall -Wextra -Werror -static -o $@ $<
# Built with gcc --coverage for run --coverage (docs/c-api.md, "Coverage"):
# compiled apart so its .gcno/.gcda are named after the object.
$(BUILD)/tests/capi-cov: tests/integration/data/capi_cov.c include/ktstr/ktstr.h $(LIB_DIR)/libktstr.a $(LIB_DIR)/libktstr_main.a
	@mkdir -p $(BUILD)/tests/capi-cov-obj; rm -f $(BUILD)/tests/capi-cov-obj/*.gcda; \
		$(CC) $(EXAMPLE_CFLAGS) -O0 --coverage -c -o $(BUILD)/tests/capi-cov-obj/capi_cov.o $< && \
		$(CC) --coverage -o $@ $(BUILD)/tests/capi-cov-obj/capi_cov.o $(LIB_DIR)/libktstr_main.a \
		$(LIB_DIR)/libktstr.a $(LIBKTSTR_LIBS)
# The same program with clang's source-based coverage (.profraw), where
# there is a clang (scripts/install-deps installs one).
CLANG_FOR_TESTS := $(shell command -v clang 2>/dev/null)
$(BUILD)/tests/capi-cov-clang: tests/integration/data/capi_cov.c include/ktstr/ktstr.h $(LIB_DIR)/libktstr.a $(LIB_DIR)/libktstr_main.a
	@mkdir -p $(dir $@); $(CLANG_FOR_TESTS) $(EXAMPLE_CFLAGS) -O0 -fprofile-instr-generate -fcoverage-mapping \
		-o $@ $< $(LIB_DIR)/libktstr_main.a $(LIB_DIR)/libktstr.a $(LIBKTSTR_LIBS)

# ---- tests ----------------------------------------------------------------------
# tests/unit/<component>/*.c -> one criterion binary per component.
UNIT_DIRS := $(patsubst tests/unit/%/,%,$(sort $(dir $(wildcard tests/unit/*/*.c))))
UNIT_BINS := $(patsubst %,$(BUILD)/tests/unit-%,$(UNIT_DIRS))
lib_for_unit = $(if $(filter common,$(1)),,$(if $(filter sandbox,$(1)),,$(BUILD)/lib$(1).a))
define unit_rules
$(BUILD)/tests/unit-$(1): $$(call objs,$$(wildcard tests/unit/$(1)/*.c)) $$(call lib_for_unit,$(1)) $(BASELIBS)
	@mkdir -p $$(dir $$@); $$(CC) $$(LDFLAGS) -o $$@ $$^ -lcriterion $(HOST_LIBS)
$(BUILD)/obj/tests/unit/$(1)/%.o: tests/unit/$(1)/%.c $(PROTO_H)
	@mkdir -p $$(dir $$@); $$(CC) $$(CFLAGS) -I$(1) -Itests -c -o $$@ $$<
endef
$(foreach d,$(UNIT_DIRS),$(eval $(call unit_rules,$(d))))

# tests/integration/*.c -> one criterion binary each, with tests/integration/lib/.
INTEG_LIB_O := $(call objs,$(wildcard tests/integration/lib/*.c))
INTEG_SRCS := $(wildcard tests/integration/*.c)
INTEG_BINS := $(patsubst tests/integration/%.c,$(BUILD)/tests/integ-%,$(INTEG_SRCS))
$(BUILD)/tests/integ-%: $(BUILD)/obj/tests/integration/%.o $(INTEG_LIB_O) $(BUILD)/liborchestrator.a $(BASELIBS)
	@mkdir -p $(dir $@); $(CC) $(LDFLAGS) -o $@ $^ -lcriterion $(HOST_LIBS)
$(BUILD)/obj/tests/integration/%.o: tests/integration/%.c $(PROTO_H)
	@mkdir -p $(dir $@); $(CC) $(CFLAGS) -Itests -Itests/integration -Iorchestrator -c -o $@ $<

# Tiny custom guests for the KVM engine tests (flat binaries run on /dev/kvm).
TINY_SRCS := $(wildcard tests/tiny-guests/*.c)
$(BUILD)/bin/ktstr-tiny-guests: $(call objs,$(TINY_SRCS)) $(BUILD)/libvmm-worker.a $(BASELIBS)
	@mkdir -p $(dir $@)
	@if [ -n "$(TINY_SRCS)" ]; then $(CC) $(LDFLAGS) -o $@ $^ $(HOST_LIBS); else printf '#!/bin/sh\necho "no tiny guests built" >&2; exit 77\n' > $@; chmod +x $@; fi

# tests/bench/*.c -> benchmark programs (figures printed by `make bench`,
# never asserted), linked with the orchestrator and worker libraries.
BENCH_SRCS := $(wildcard tests/bench/*.c)
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/tests/bench-%,$(BENCH_SRCS))
# bench-share wraps its guest with the tiny guests' bzImage writer.
$(BUILD)/tests/bench-share: $(BUILD)/obj/tests/tiny-guests/tiny_bzimage.o
$(BUILD)/tests/bench-%: $(BUILD)/obj/tests/bench/%.o $(BUILD)/liborchestrator.a $(BUILD)/libvmm-worker.a $(BASELIBS)
	@mkdir -p $(dir $@); $(CC) $(LDFLAGS) -o $@ $^ $(HOST_LIBS)
$(BUILD)/obj/tests/bench/%.o: tests/bench/%.c $(PROTO_H)
	@mkdir -p $(dir $@); $(CC) $(CFLAGS) -Itests -Iorchestrator -Ivmm-worker -c -o $@ $<

# arm64 guest code (vmm-worker/arm64-guest/) builds on every host: the
# device-tree writer for the golden files (scripts/arm64-golden), and the
# arm64 integration tests link the worker library (docs/aarch64.md).
$(BUILD)/tests/arm64-fdt: $(BUILD)/obj/tests/tools/arm64_fdt.o $(BUILD)/libvmm-worker.a $(BASELIBS)
	@mkdir -p $(dir $@); $(CC) $(LDFLAGS) -o $@ $^ $(HOST_LIBS)
$(BUILD)/obj/tests/tools/%.o: tests/tools/%.c $(PROTO_H)
	@mkdir -p $(dir $@); $(CC) $(CFLAGS) -Ivmm-worker -c -o $@ $<
$(BUILD)/tests/integ-arm64_%: $(BUILD)/obj/tests/integration/arm64_%.o $(INTEG_LIB_O) $(BUILD)/liborchestrator.a $(BUILD)/libvmm-worker.a $(BASELIBS)
	@mkdir -p $(dir $@); $(CC) $(LDFLAGS) -o $@ $^ -lcriterion $(HOST_LIBS)
$(BUILD)/obj/tests/integration/arm64_%.o: tests/integration/arm64_%.c $(PROTO_H)
	@mkdir -p $(dir $@); $(CC) $(CFLAGS) -Itests -Itests/integration -Ivmm-worker -Iorchestrator -c -o $@ $<

tests-build: all lib examples $(BUILD)/tests/capi-faults $(BUILD)/tests/capi-vm-prog $(BUILD)/tests/capi-cov \
	$(if $(CLANG_FOR_TESTS),$(BUILD)/tests/capi-cov-clang) $(UNIT_BINS) $(INTEG_BINS) $(BENCH_BINS) \
	$(BUILD)/tests/arm64-fdt $(ARM64_TEST_BINS)

test: tests-build
	BUILD=$(BUILD) scripts/run-tests all
test-unit: tests-build
	BUILD=$(BUILD) scripts/run-tests unit
test-vm: tests-build
	BUILD=$(BUILD) scripts/run-tests integration

asan:
	$(MAKE) BUILD=build-asan SAN=1 tests-build
	SAN=1 BUILD=build-asan scripts/run-tests unit

bench: all $(BENCH_BINS)
	BUILD=$(BUILD) scripts/bench

setup:
	scripts/install-deps
	$(MAKE) all
	$(BUILD)/bin/ktstr-orch kernel fetch

# Nested rig (L0 QEMU TCG+SVM -> L1 Debian kernel with kvm_amd -> L2 booted by
# ktstr-vmm-worker's KVM engine); checks the topology L2 reports. Static
# objects, so its own non-SAN build dir. See docs/nested-rig.md.
NESTED_TOPOLOGIES ?= 1,1,2,1 1,2,2,2 2,4,2,1
test-nested:
	BUILD=build-nested TOPOLOGIES="$(NESTED_TOPOLOGIES)" scripts/nested-rig

# Repeats the fixture fault matrix (scripts/soak -> scripts/soak-monitor) and reports detections and
# false positives per knob; not part of `make test`.
soak: all
	BUILD=$(BUILD) scripts/soak -n $(or $(SOAK_REPS),10) -b $(BUILD)

# Fuzz every decoder (libFuzzer); CI runs a short pass, this a longer one.
FUZZ_SECS ?= 30
fuzz:
	BUILD=$(BUILD)-fuzz scripts/fuzz $(FUZZ_SECS)

# ---- install -------------------------------------------------------------------
# ktstr-orch in PREFIX/bin; its helpers in PREFIX/libexec/ktstr, where it finds
# them relative to its own /proc/self/exe (orchestrator/helper_path.h), the
# arm64 guest (where built) as arm64/ktstr-guest beside the host's guest, as
# in $(BUILD)/bin; man
# pages; the bash completion, written by ktstr-orch from its option table.
# DESTDIR stages the tree for a package (docs/install.md).
PREFIX ?= /usr/local
DESTDIR ?=
INSTALL_HELPERS := ktstr-vmm-worker ktstr-initramfs-builder ktstr-guest
INSTALL_MAN1 := $(wildcard man/*.1)
I_BIN = $(DESTDIR)$(PREFIX)/bin
I_LIBEXEC = $(DESTDIR)$(PREFIX)/libexec/ktstr
I_MAN1 = $(DESTDIR)$(PREFIX)/share/man/man1
I_COMP = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
I_INC = $(DESTDIR)$(PREFIX)/include/ktstr
I_LIB = $(DESTDIR)$(PREFIX)/lib
# The C API (docs/c-api.md): its header, both libraries, the dual-role main
# and the pkg-config file, whose prefix is PREFIX.
INSTALL_LIBS := libktstr.a libktstr_main.a libktstr.so.$(KTSTR_SOVERSION) libktstr.so
install-lib: lib
	install -d -m 0755 $(I_INC) $(I_LIB)/pkgconfig
	install -m 0644 include/ktstr/ktstr.h $(I_INC)/
	install -m 0644 $(LIB_DIR)/libktstr.a $(LIB_DIR)/libktstr_main.a $(I_LIB)/
	install -m 0755 $(LIB_DIR)/libktstr.so.$(KTSTR_SOVERSION) $(I_LIB)/
	ln -sf libktstr.so.$(KTSTR_SOVERSION) $(I_LIB)/libktstr.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(strip $(shell cat VERSION))|' \
		-e 's|@LIBS@|$(LIBKTSTR_LIBS)|' libktstr/ktstr.pc.in > $(I_LIB)/pkgconfig/ktstr.pc
install: all install-lib
	install -d -m 0755 $(I_BIN) $(I_LIBEXEC) $(I_MAN1) $(I_COMP)
	install -m 0755 $(BUILD)/bin/ktstr-orch $(I_BIN)/ktstr-orch
	install -m 0755 $(addprefix $(BUILD)/bin/,$(INSTALL_HELPERS)) $(I_LIBEXEC)/
	$(if $(ARM64_GUEST_MISSING),@echo "make: arm64 guest not installed ($(ARM64_GUEST_MISSING) not found at build time)",\
		install -d -m 0755 $(I_LIBEXEC)/arm64 && install -m 0755 $(ARM64_GUEST) $(I_LIBEXEC)/arm64/ktstr-guest)
	install -m 0644 $(INSTALL_MAN1) $(I_MAN1)/
	$(BUILD)/bin/ktstr-orch completion bash > $(I_COMP)/ktstr-orch.tmp
	chmod 0644 $(I_COMP)/ktstr-orch.tmp && mv -f $(I_COMP)/ktstr-orch.tmp $(I_COMP)/ktstr-orch
uninstall:
	rm -f $(I_BIN)/ktstr-orch $(addprefix $(I_LIBEXEC)/,$(INSTALL_HELPERS)) \
		$(addprefix $(I_MAN1)/,$(notdir $(INSTALL_MAN1))) $(I_COMP)/ktstr-orch \
		$(I_INC)/ktstr.h $(addprefix $(I_LIB)/,$(INSTALL_LIBS)) $(I_LIB)/pkgconfig/ktstr.pc
	rm -f $(I_LIBEXEC)/arm64/ktstr-guest
	-rmdir $(I_LIBEXEC)/arm64 $(I_LIBEXEC) $(I_INC) 2>/dev/null

clean:
	rm -rf build build-asan build-fuzz build-nested

.PHONY: all test test-unit test-vm asan bench setup clean tests-build fuzz test-nested soak \
	install uninstall lib examples install-lib

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
