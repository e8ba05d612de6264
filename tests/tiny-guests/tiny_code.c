/* The tiny guests' code: one body assembled twice, as 64-bit code (entered
 * through the bzImage 64-bit entry) and as 32-bit code (entered through the
 * PVH entry). Only plain integer instructions, so kvm_pvm's emulator copes.
 * The body always runs at guest physical TINY_BASE, so absolute addresses
 * are assembly-time constants (label - start + TINY_BASE).
 *
 * What it does: hello on COM1 and COM2 (polling LSR.THRE), CPUID 0x1/0xB/
 * 0x8000_001E and 0x4000_0001.EDX (kvm1.edx, KVM hints) results on COM2, the ring message from its params block into
 * the SHM ring whose address it parses from KTSTR_SHM_BASE=0x... on the
 * command line, then the scenario's ending (power off, reset, triple fault,
 * hang, unbacked access, emulation failure, panic, or the IOAPIC check).
 *
 * The IOAPIC check (split irqchip, APIC IDs > 254; the 64-bit body first
 * maps the IOAPIC page, above its 1 GiB identity map): reads ID/VER/ARB,
 * writes the ID and an all-ones entry 10 and reads them back, programs
 * entry 4 (COM1) level-triggered to vector 0x34 for the BSP, reads APIC_BASE
 * and the x2APIC ID, software-enables the LAPIC and, interrupts off, makes
 * COM1 assert its line (OUT2 + THRI): the entry shows remote IRR and the
 * LAPIC's IRR shows vector 0x34 (the MSI arrived). IIR acknowledges the
 * UART, the EOI register clears remote IRR. The 64-bit body then takes the
 * interrupt for real and EOIs the LAPIC (remote IRR clears through
 * KVM_EXIT_IOAPIC_EOI). Then CPUID 1.ECX, 0x4000_0001
 * EAX and the MADT's x2APIC/LAPIC entry counts and highest x2APIC ID, all
 * printed on COM2, and power off. */
#include "tiny.h"

#define STR_(x) #x
#define STR(x) STR_(x)

__asm__(
".section .rodata\n"
/* Print string \\p_\\s then the dword at addr in hex on port edi. */
".macro tiny_ph p, s, addr\n"
"	mov $\\p\\()_\\s - \\p\\()_start + " STR(TINY_BASE) ", %esi\n"
"	call \\p\\()_puts\n"
"	mov \\addr, %ebx\n"
"	call \\p\\()_puthex\n"
".endm\n"
".macro tiny_body p, mode\n"
"\\p\\()_start:\n"
"	jmp \\p\\()_main\n"
"	.balign 8\n"
"\\p\\()_params:\n"
"	.long 0, 0, 0, 0\n"			/* scenario, ring_len, cmdline, spare */
"	.fill " STR(TINY_RING_MAX) ", 1, 0\n"	/* ring message bytes */
"\\p\\()_main:\n"
"	mov $0x8ff0, %esp\n"
"	.if \\mode == 64\n"
"	mov 0x228(%esi), %eax\n"		/* boot_params.cmd_line_ptr */
"	.else\n"
"	mov 24(%ebx), %eax\n"			/* hvm_start_info.cmdline_paddr */
"	.endif\n"
"	mov %eax, \\p\\()_params - \\p\\()_start + " STR(TINY_BASE) " + 8\n"
"	mov $0x3f8, %edi\n"
"	mov $\\p\\()_hello1 - \\p\\()_start + " STR(TINY_BASE) ", %esi\n"
"	call \\p\\()_puts\n"
"	mov $0x2f8, %edi\n"
"	mov $\\p\\()_hello2 - \\p\\()_start + " STR(TINY_BASE) ", %esi\n"
"	call \\p\\()_puts\n"
/* CPUID results into scratch at 0x5000, then printed from the table. */
"	mov $1, %eax\n	xor %ecx, %ecx\n	cpuid\n	mov %ebx, 0x5000\n"
"	mov $0xb, %eax\n	xor %ecx, %ecx\n	cpuid\n	mov %eax, 0x5004\n	mov %ebx, 0x5008\n	mov %edx, 0x500c\n"
"	mov $0xb, %eax\n	mov $1, %ecx\n	cpuid\n	mov %eax, 0x5010\n	mov %ebx, 0x5014\n"
"	mov $0x40000001, %eax\n	xor %ecx, %ecx\n	cpuid\n	mov %edx, 0x5024\n"	/* KVM hints (KVM_HINTS_REALTIME = bit 0) */
"	mov $0x80000000, %eax\n	xor %ecx, %ecx\n	cpuid\n	xor %edx, %edx\n	mov %edx, 0x5018\n	mov %edx, 0x501c\n	mov %edx, 0x5020\n"
"	cmp $0x8000001e, %eax\n	jb 5f\n"
"	mov $0x8000001e, %eax\n	xor %ecx, %ecx\n	cpuid\n	mov %eax, 0x5018\n	mov %ebx, 0x501c\n	mov %ecx, 0x5020\n"
"5:	mov $\\p\\()_tbl - \\p\\()_start + " STR(TINY_BASE) ", %eax\n"
"	mov %eax, 0x5100\n"
"3:	mov 0x5100, %eax\n	mov (%eax), %esi\n	test %esi, %esi\n	jz 4f\n"
"	call \\p\\()_puts\n"
"	mov 0x5100, %eax\n	mov 4(%eax), %eax\n	mov (%eax), %ebx\n	call \\p\\()_puthex\n"
"	addl $8, 0x5100\n	jmp 3b\n"
"4:	mov $10, %al\n	call \\p\\()_putc\n"
/* Find KTSTR_SHM_BASE=0x in the command line. */
"	mov \\p\\()_params - \\p\\()_start + " STR(TINY_BASE) " + 8, %esi\n"
"10:	mov $\\p\\()_key - \\p\\()_start + " STR(TINY_BASE) ", %ebx\n"
"	mov %esi, %edx\n"
"11:	mov (%ebx), %al\n	test %al, %al\n	jz 13f\n"
"	mov (%edx), %cl\n	cmp %cl, %al\n	jne 12f\n"
"	inc %ebx\n	inc %edx\n	jmp 11b\n"
"12:	cmpb $0, (%esi)\n	je 19f\n	inc %esi\n	jmp 10b\n"
"13:	xor %eax, %eax\n"			/* parse hex at edx */
"14:	movzbl (%edx), %ecx\n	sub $0x30, %ecx\n	cmp $9, %ecx\n	jbe 15f\n"
"	movzbl (%edx), %ecx\n	or $0x20, %ecx\n	sub $0x61, %ecx\n	cmp $5, %ecx\n	ja 16f\n"
"	add $10, %ecx\n"
"15:	shl $4, %eax\n	or %ecx, %eax\n	inc %edx\n	jmp 14b\n"
"16:	cmpl $0x53544d52, (%eax)\n	jne 18f\n"	/* ring magic "STMR" */
"	mov %eax, 0x5104\n"
"	mov 16(%eax), %edi\n	lea 40(%eax,%edi), %edi\n"	/* data + write_ptr */
"	mov $\\p\\()_params - \\p\\()_start + " STR(TINY_BASE) " + 16, %esi\n"
"	mov \\p\\()_params - \\p\\()_start + " STR(TINY_BASE) " + 4, %ecx\n"
"17:	test %ecx, %ecx\n	jz 20f\n	mov (%esi), %bl\n	mov %bl, (%edi)\n"
"	inc %esi\n	inc %edi\n	dec %ecx\n	jmp 17b\n"
"20:	mov 0x5104, %eax\n	mov \\p\\()_params - \\p\\()_start + " STR(TINY_BASE) " + 4, %ecx\n"
"	add %ecx, 16(%eax)\n"			/* publish: write_ptr += len */
"	movb $1, 15(%eax)\n"			/* slot1 = scheduler loaded */
"	mov $0x2f8, %edi\n	mov $\\p\\()_ringok - \\p\\()_start + " STR(TINY_BASE) ", %esi\n	call \\p\\()_puts\n"
"	jmp 30f\n"
"18:	mov $0x2f8, %edi\n	mov $\\p\\()_badmagic - \\p\\()_start + " STR(TINY_BASE) ", %esi\n	call \\p\\()_puts\n	jmp 30f\n"
"19:	mov $0x2f8, %edi\n	mov $\\p\\()_noshm - \\p\\()_start + " STR(TINY_BASE) ", %esi\n	call \\p\\()_puts\n"
/* The ending. */
"30:	mov \\p\\()_params - \\p\\()_start + " STR(TINY_BASE) ", %eax\n"
"	cmp $" STR(TINY_POWEROFF) ", %eax\n	jne 31f\n"
"	mov $0x604, %edx\n	mov $0x3400, %eax\n	out %ax, (%dx)\n	jmp 39f\n"
"31:	cmp $" STR(TINY_RESET) ", %eax\n	jne 32f\n"
"	mov $0x64, %edx\n	mov $0xfe, %al\n	out %al, (%dx)\n	jmp 39f\n"
"32:	cmp $" STR(TINY_TRIPLE_FAULT) ", %eax\n	jne 33f\n"
"	lidt 0x5200\n	ud2\n"			/* null IDT: #UD -> #DF -> shutdown */
"33:	cmp $" STR(TINY_HANG) ", %eax\n	jne 34f\n"
"1:	jmp 1b\n"
"34:	cmp $" STR(TINY_UNBACKED) ", %eax\n	jne 35f\n"
"	movl $0x1234, " STR(TINY_UNBACKED_ADDR) "\n	jmp 39f\n"
"35:	cmp $" STR(TINY_EMULATION) ", %eax\n	jne 36f\n"
"	int3\n	jmp 39f\n"
"36:	cmp $" STR(TINY_PANIC) ", %eax\n	jne 37f\n"
"	mov $0x3f8, %edi\n	mov $\\p\\()_panic - \\p\\()_start + " STR(TINY_BASE) ", %esi\n	call \\p\\()_puts\n"
"	jmp 39f\n"
"37:	cmp $" STR(TINY_IOAPIC) ", %eax\n	jne 39f\n"
"	call \\p\\()_ioapic\n"
"	mov $0x604, %edx\n	mov $0x3400, %eax\n	out %ax, (%dx)\n"
"39:	cli\n"
"2:	hlt\n	jmp 2b\n"
/* putc: al = byte, edi = port base; waits (bounded) for THRE. */
"\\p\\()_putc:\n"
"	movzbl %al, %ebp\n	lea 5(%edi), %edx\n	mov $100000, %ecx\n"
"1:	in (%dx), %al\n	test $0x20, %al\n	jnz 2f\n	dec %ecx\n	jnz 1b\n"
"2:	mov %edi, %edx\n	mov %ebp, %eax\n	out %al, (%dx)\n	ret\n"
/* puts: esi = NUL-terminated string, edi = port base. */
"\\p\\()_puts:\n"
"1:	mov (%esi), %al\n	test %al, %al\n	jz 2f\n	call \\p\\()_putc\n	inc %esi\n	jmp 1b\n"
"2:	ret\n"
/* puthex: ebx = value, printed as 8 hex digits. */
"\\p\\()_puthex:\n"
"	mov $8, %esi\n"
"1:	rol $4, %ebx\n	mov %ebx, %eax\n	and $0xf, %eax\n	cmp $10, %eax\n	jb 2f\n	add $0x27, %eax\n"
"2:	add $0x30, %eax\n	call \\p\\()_putc\n	dec %esi\n	jnz 1b\n	ret\n"
/* ior: eax = register index -> eax = its value; iow: eax = index, ecx =
 * value. Both through the IOAPIC's IOREGSEL/IOWIN (clobber edx). */
"\\p\\()_ior:\n"
"	mov $0xfec00000, %edx\n	mov %eax, (%edx)\n	mov 0x10(%edx), %eax\n	ret\n"
"\\p\\()_iow:\n"
"	mov $0xfec00000, %edx\n	mov %eax, (%edx)\n	mov %ecx, 0x10(%edx)\n	ret\n"
/* The IOAPIC check (see the top of this file); results at 0x5040.. */
"\\p\\()_ioapic:\n"
"	.if \\mode == 64\n"
"	movl $0xc003, 0xa018\n	movl $0, 0xa01c\n"		/* PDPT[3] -> PD at 0xC000 */
"	movl $0xfec00093, 0xcfb0\n	movl $0, 0xcfb4\n"	/* PD[502]: 2 MiB at 0xFEC00000, P|RW|PCD|PS */
"	mov %cr3, %rax\n	mov %rax, %cr3\n"
"	.endif\n"
"	xor %eax, %eax\n	call \\p\\()_ior\n	mov %eax, 0x5040\n"	/* ID */
"	mov $1, %eax\n	call \\p\\()_ior\n	mov %eax, 0x5044\n"	/* VER */
"	xor %eax, %eax\n	mov $0x05000000, %ecx\n	call \\p\\()_iow\n"
"	xor %eax, %eax\n	call \\p\\()_ior\n	mov %eax, 0x5048\n"	/* ID written */
"	mov $2, %eax\n	call \\p\\()_ior\n	mov %eax, 0x504c\n"	/* ARB */
"	mov $0x25, %eax\n	mov $0xffffffff, %ecx\n	call \\p\\()_iow\n"	/* entry 10 high */
"	mov $0x24, %eax\n	mov $0xffffffff, %ecx\n	call \\p\\()_iow\n"	/* entry 10 low */
"	mov $0x24, %eax\n	call \\p\\()_ior\n	mov %eax, 0x5050\n"
"	mov $0x25, %eax\n	call \\p\\()_ior\n	mov %eax, 0x5054\n"
"	mov $0x19, %eax\n	xor %ecx, %ecx\n	call \\p\\()_iow\n"	/* entry 4: dest 0 */
"	mov $0x18, %eax\n	mov $0x8034, %ecx\n	call \\p\\()_iow\n"	/* level, vector 0x34 */
"	mov $0x18, %eax\n	call \\p\\()_ior\n	mov %eax, 0x5058\n"
"	mov $0x1b, %ecx\n	rdmsr\n	mov %eax, 0x505c\n"		/* APIC_BASE */
"	mov $0x802, %ecx\n	rdmsr\n	mov %eax, 0x5060\n"		/* x2APIC ID */
"	mov $0x80f, %ecx\n	mov $0x1ff, %eax\n	xor %edx, %edx\n	wrmsr\n"	/* SVR: enable */
"	cli\n"
"	mov $0x3fc, %edx\n	mov $0x08, %al\n	out %al, (%dx)\n"		/* COM1 MCR.OUT2 */
"	mov $0x3f9, %edx\n	mov $0x02, %al\n	out %al, (%dx)\n"		/* COM1 IER.THRI */
"	mov $0x18, %eax\n	call \\p\\()_ior\n	mov %eax, 0x5064\n"	/* remote IRR? */
"	mov $0x821, %ecx\n	rdmsr\n	mov %eax, 0x5068\n"		/* LAPIC IRR 32-63 */
"	mov $0x3fa, %edx\n	in (%dx), %al\n"			/* IIR: THRI acknowledged */
"	mov $0xfec00040, %edx\n	movl $0x34, (%edx)\n"		/* EOI register */
"	mov $0x18, %eax\n	call \\p\\()_ior\n	mov %eax, 0x506c\n"
"	xor %eax, %eax\n	mov $0x3f9, %edx\n	out %al, (%dx)\n	mov $0x3fc, %edx\n	out %al, (%dx)\n"
/* 64-bit body only (kvm_pvm cannot emulate the 32-bit iret; the PVH body
 * reports irqs_taken=0, rte4.lapic_eoi=ffffffff): take the interrupt. An
 * IDT (at 0xD000) with one gate for 0x34 whose handler acknowledges the
 * UART and EOIs the LAPIC (x2APIC EOI MSR), which KVM turns into
 * KVM_EXIT_IOAPIC_EOI for this level vector: remote IRR must read clear
 * afterwards. The 0x34 still pending in the IRR from above is taken at sti
 * too: the handler counts both (0x5084). */
"	movl $0, 0x5084\n	movl $0xffffffff, 0x5088\n"
"	.if \\mode == 64\n"
"	mov $\\p\\()_isr - \\p\\()_start + " STR(TINY_BASE) ", %eax\n"
"	mov %cs, %ecx\n	shl $16, %ecx\n	mov %eax, %edx\n	and $0xffff, %edx\n	or %edx, %ecx\n"
"	and $0xffff0000, %eax\n	or $0x8e00, %eax\n"	/* present, DPL 0, interrupt gate */
"	mov %ecx, 0xd340\n	mov %eax, 0xd344\n	movl $0, 0xd348\n	movl $0, 0xd34c\n"
"	movw $0x34f, 0x5210\n	movl $0xd000, 0x5212\n	movl $0, 0x5216\n	lidt 0x5210\n"
"	sti\n	nop\n"
"	mov $0x3fc, %edx\n	mov $0x08, %al\n	out %al, (%dx)\n"		/* COM1 MCR.OUT2 */
"	mov $0x3f9, %edx\n	mov $0x02, %al\n	out %al, (%dx)\n"		/* IER.THRI: line up */
"	nop\n	nop\n	cli\n"
"	mov $0x18, %eax\n	call \\p\\()_ior\n	mov %eax, 0x5088\n"
"	xor %eax, %eax\n	mov $0x3f9, %edx\n	out %al, (%dx)\n	mov $0x3fc, %edx\n	out %al, (%dx)\n"
"	.endif\n"
"	mov $1, %eax\n	xor %ecx, %ecx\n	cpuid\n	mov %ecx, 0x5070\n"
"	mov $0x40000001, %eax\n	xor %ecx, %ecx\n	cpuid\n	mov %eax, 0x5074\n"
/* MADT via RSDP (0xE0000) -> RSDT: type 9 and type 0 counts, top x2APIC ID. */
"	movl $0, 0x5078\n	movl $0, 0x507c\n	movl $0, 0x5080\n"
"	mov 0xe0010, %eax\n	mov 4(%eax), %ecx\n	lea 36(%eax), %esi\n	lea (%eax,%ecx), %edi\n"
"1:	cmp %edi, %esi\n	jae 5f\n	mov (%esi), %ebx\n	cmpl $0x43495041, (%ebx)\n	je 2f\n"
"	add $4, %esi\n	jmp 1b\n"
"2:	mov 4(%ebx), %ecx\n	lea 44(%ebx), %esi\n	lea (%ebx,%ecx), %edi\n"
"3:	cmp %edi, %esi\n	jae 5f\n	movzbl (%esi), %eax\n	cmp $9, %eax\n	jne 4f\n"
"	incl 0x5078\n	mov 4(%esi), %eax\n	cmp 0x5080, %eax\n	jbe 6f\n	mov %eax, 0x5080\n	jmp 6f\n"
"4:	test %eax, %eax\n	jnz 6f\n	incl 0x507c\n"
"6:	movzbl 1(%esi), %eax\n	test %eax, %eax\n	jz 5f\n	add %eax, %esi\n	jmp 3b\n"
"5:	mov $0x2f8, %edi\n"
"	tiny_ph \\p, io0, 0x5040\n	tiny_ph \\p, io1, 0x5044\n	tiny_ph \\p, io2, 0x5048\n"
"	tiny_ph \\p, io3, 0x504c\n	tiny_ph \\p, io4, 0x5054\n	tiny_ph \\p, io5, 0x5050\n"
"	tiny_ph \\p, io6, 0x5058\n	tiny_ph \\p, io7, 0x505c\n	tiny_ph \\p, io8, 0x5060\n"
"	tiny_ph \\p, io9, 0x5064\n	tiny_ph \\p, ioa, 0x5068\n	tiny_ph \\p, iob, 0x506c\n"
"	tiny_ph \\p, ioc, 0x5070\n	tiny_ph \\p, iod, 0x5074\n	tiny_ph \\p, ioe, 0x5078\n"
"	tiny_ph \\p, iof, 0x507c\n	tiny_ph \\p, iog, 0x5080\n"
"	tiny_ph \\p, ioh, 0x5084\n	tiny_ph \\p, ioi, 0x5088\n"
"	mov $10, %al\n	call \\p\\()_putc\n	ret\n"
/* Vector 0x34: acknowledge COM1 (IIR read drops THRI, the line falls), then
 * EOI the LAPIC; count in 0x5084. */
"	.if \\mode == 64\n"
"\\p\\()_isr:\n"
"	push %rax\n	push %rcx\n	push %rdx\n"
"	incl 0x5084\n"
"	mov $0x3fa, %edx\n	in (%dx), %al\n"
"	mov $0x80b, %ecx\n	xor %eax, %eax\n	xor %edx, %edx\n	wrmsr\n"
"	pop %rdx\n	pop %rcx\n	pop %rax\n	iretq\n"
"	.endif\n"
"\\p\\()_io0:	.asciz \"TINY: ioapic id=\"\n"
"\\p\\()_io1:	.asciz \" ver=\"\n"
"\\p\\()_io2:	.asciz \" id.written=\"\n"
"\\p\\()_io3:	.asciz \" arb=\"\n"
"\\p\\()_io4:	.asciz \"\\nTINY: rte10.ones=\"\n"
"\\p\\()_io5:	.asciz \":\"\n"
"\\p\\()_io6:	.asciz \" rte4=\"\n"
"\\p\\()_io7:	.asciz \"\\nTINY: apic_base=\"\n"
"\\p\\()_io8:	.asciz \" x2apic_id=\"\n"
"\\p\\()_io9:	.asciz \" rte4.raised=\"\n"
"\\p\\()_ioa:	.asciz \" lapic.irr1=\"\n"
"\\p\\()_iob:	.asciz \" rte4.eoi=\"\n"
"\\p\\()_ioc:	.asciz \"\\nTINY: cpuid1.ecx=\"\n"
"\\p\\()_iod:	.asciz \" kvm.eax=\"\n"
"\\p\\()_ioe:	.asciz \" madt.x2apic=\"\n"
"\\p\\()_iof:	.asciz \" madt.lapic=\"\n"
"\\p\\()_iog:	.asciz \" madt.max_x2apic_id=\"\n"
"\\p\\()_ioh:	.asciz \"\\nTINY: irqs_taken=\"\n"
"\\p\\()_ioi:	.asciz \" rte4.lapic_eoi=\"\n"
"\\p\\()_hello1:	.asciz \"TINY: hello com1\\n\"\n"
"\\p\\()_hello2:	.asciz \"TINY: hello com2\\n\"\n"
"\\p\\()_ringok:	.asciz \"TINY: ring written\\n\"\n"
"\\p\\()_badmagic:	.asciz \"TINY: bad ring magic\\n\"\n"
"\\p\\()_noshm:	.asciz \"TINY: no KTSTR_SHM_BASE\\n\"\n"
"\\p\\()_panic:	.asciz \"Kernel panic - not syncing: tiny guest\\n\"\n"
"\\p\\()_key:	.asciz \"KTSTR_SHM_BASE=0x\"\n"
"\\p\\()_s0:	.asciz \"TINY: cpuid 1.ebx=\"\n"
"\\p\\()_s1:	.asciz \" b0.eax=\"\n"
"\\p\\()_s2:	.asciz \" b0.ebx=\"\n"
"\\p\\()_s3:	.asciz \" b0.edx=\"\n"
"\\p\\()_s4:	.asciz \" b1.eax=\"\n"
"\\p\\()_s5:	.asciz \" b1.ebx=\"\n"
"\\p\\()_s6:	.asciz \" 1e.eax=\"\n"
"\\p\\()_s7:	.asciz \" 1e.ebx=\"\n"
"\\p\\()_s8:	.asciz \" 1e.ecx=\"\n"
"\\p\\()_s9:	.asciz \" kvm1.edx=\"\n"
"	.balign 4\n"
"\\p\\()_tbl:\n"
"	.irp n, 0,1,2,3,4,5,6,7,8,9\n"
"	.long \\p\\()_s\\n - \\p\\()_start + " STR(TINY_BASE) ", 0x5000 + 4 * \\n\n"
"	.endr\n"
"	.long 0, 0\n"
"\\p\\()_end:\n"
".endm\n"
"	.code64\n"
"	tiny_body tiny64, 64\n"
"	.code32\n"
"	tiny_body tiny32, 32\n"
"	.code64\n"
"	.globl tiny64_start, tiny64_params, tiny64_end, tiny32_start, tiny32_params, tiny32_end\n"
".previous\n");
