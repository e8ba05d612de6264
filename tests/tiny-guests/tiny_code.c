/* The tiny guests' code: one body assembled twice, as 64-bit code (entered
 * through the bzImage 64-bit entry) and as 32-bit code (entered through the
 * PVH entry). Only plain integer instructions, so kvm_pvm's emulator copes.
 * The body always runs at guest physical TINY_BASE, so absolute addresses
 * are assembly-time constants (label - start + TINY_BASE).
 *
 * What it does: hello on COM1 and COM2 (polling LSR.THRE), CPUID 0x1/0xB/
 * 0x8000_001E results on COM2, the ring message from its params block into
 * the SHM ring whose address it parses from KTSTR_SHM_BASE=0x... on the
 * command line, then the scenario's ending (power off, reset, triple fault,
 * hang, unbacked access, emulation failure, panic). */
#include "tiny.h"

#define STR_(x) #x
#define STR(x) STR_(x)

__asm__(
".section .rodata\n"
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
"36:	cmp $" STR(TINY_PANIC) ", %eax\n	jne 39f\n"
"	mov $0x3f8, %edi\n	mov $\\p\\()_panic - \\p\\()_start + " STR(TINY_BASE) ", %esi\n	call \\p\\()_puts\n"
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
"	.balign 4\n"
"\\p\\()_tbl:\n"
"	.irp n, 0,1,2,3,4,5,6,7,8\n"
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
