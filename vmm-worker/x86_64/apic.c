#include "apic.h"

uint32_t x86_field_bits(uint32_t n)
{
	uint32_t bits = 0;

	while (n > 1 && (1u << bits) < n)
		bits++;
	return bits;
}

uint32_t x86_apic_id(const struct ktstr_topo *t, uint32_t cpu)
{
	uint32_t tb = x86_field_bits(t->threads_per_core);
	uint32_t cb = x86_field_bits(t->cores_per_llc);
	uint32_t per_llc = t->cores_per_llc * t->threads_per_core;
	uint32_t llc = cpu / per_llc;
	uint32_t core = (cpu % per_llc) / t->threads_per_core;
	uint32_t thread = cpu % t->threads_per_core;

	return (llc << (cb + tb)) | (core << tb) | thread;
}
