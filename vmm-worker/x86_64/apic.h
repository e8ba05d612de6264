/* APIC ID packing: one package per LLC, fields sized to the next power of
 * two like real CPUs, so the guest's topology enumeration (CPUID 0xB shifts)
 * and the APIC IDs agree. */
#ifndef KTSTR_X86_APIC_H
#define KTSTR_X86_APIC_H

#include <stdint.h>

#include "ktstr/topology.h"

/* ceil(log2(n)), 0 for n <= 1. */
uint32_t x86_field_bits(uint32_t n);
/* APIC ID of (llc, core, thread): (llc << (core_bits + thread_bits)) |
 * (core << thread_bits) | thread. */
uint32_t x86_apic_id(const struct ktstr_topo *t, uint32_t cpu);
/* The largest APIC ID an x2APIC-less guest can address; above it the worker
 * uses x2APIC MADT entries and the split irqchip. */
#define X86_XAPIC_MAX_ID 254u

#endif
