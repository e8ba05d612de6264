/* Tiny guests for the KVM engine: minimal kernel images (bzImage with a
 * 64-bit entry, PVH ELF with a 32-bit entry) whose code exercises the
 * engine's devices, tables and exits on any /dev/kvm, kvm_pvm included. */
#ifndef KTSTR_TINY_H
#define KTSTR_TINY_H

#define TINY_BASE 0x100200	     /* GPA of the code in both formats */
#define TINY_RING_MAX 232	     /* bytes of ring message in the params */
#define TINY_UNBACKED_ADDR 0x30000000 /* below 1 GiB (mapped), above RAM */

/* Scenario numbers (params word 0). */
#define TINY_POWEROFF 0
#define TINY_RESET 1
#define TINY_TRIPLE_FAULT 2
#define TINY_HANG 3
#define TINY_UNBACKED 4
#define TINY_EMULATION 5
#define TINY_PANIC 6
#define TINY_IOAPIC 7 /* split irqchip: IOAPIC registers, a COM1 level IRQ, x2APIC tables */

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

extern const uint8_t tiny64_start[], tiny64_params[], tiny64_end[];
extern const uint8_t tiny32_start[], tiny32_params[], tiny32_end[];

enum tiny_format { TINY_BZIMAGE, TINY_PVH };

/* Build an image for scenario with ring message (type, payload) into a
 * memfd. Returns the fd (caller closes) or -errno. */
int tiny_image(enum tiny_format fmt, unsigned scenario, uint32_t ring_type, const char *payload);
/* code (64-bit entry at TINY_BASE) wrapped in a minimal bzImage; malloc'd
 * (caller frees), *len set; NULL when out of memory (tiny_bzimage.c, also
 * linked into bench-share). */
uint8_t *tiny_bzimage(const uint8_t *code, size_t clen, size_t *len);
#endif

#endif
