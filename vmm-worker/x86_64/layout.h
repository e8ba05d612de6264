/* Fixed guest-physical layout of a ktstr x86_64 VM (docs/reference.md,
 * "Guest memory layout and boot registers"). Every table writer and loader
 * uses these names so the layout is stated once. */
#ifndef KTSTR_X86_LAYOUT_H
#define KTSTR_X86_LAYOUT_H

#define X86_GDT_ADDR 0x500ull
#define X86_IDT_ADDR 0x520ull
#define X86_PVH_START_INFO 0x6000ull /* hvm_start_info + memmap, one page */
#define X86_ZERO_PAGE 0x7000ull	     /* struct boot_params */
#define X86_BOOT_STACK 0x8ff0ull
#define X86_PML4 0x9000ull
#define X86_PDPT 0xA000ull
#define X86_PD 0xB000ull
#define X86_CMDLINE 0x20000ull
#define X86_CMDLINE_MAX 4096u /* including the NUL */
#define X86_EBDA_START 0x9FC00ull /* end of the low RAM entry in E820 */
#define X86_MPTABLE X86_EBDA_START
#define X86_ACPI_START 0xE0000ull /* RSDP first, then the tables */
#define X86_ACPI_END 0x100000ull
#define X86_KERNEL_LOAD 0x100000ull /* bzImage protected-mode code */
#define X86_INITRD_MIN 0x8000000ull /* 128 MiB */
#define X86_MMIO_GAP_START 0xC0000000ull
#define X86_MMIO_GAP_END 0x100000000ull
#define X86_IOAPIC_ADDR 0xFEC00000ull
#define X86_LAPIC_ADDR 0xFEE00000ull
#define X86_KVM_TSS 0xFFFBD000ull
#define X86_KVM_IDENTITY_MAP (X86_KVM_TSS + 3 * 4096ull)

/* ACPI fixed-hardware power management block (our FADT points here). The
 * worker emulates it so a guest can power off with a distinct outcome. */
#define X86_ACPI_PM1A_EVT 0x600u /* 4 bytes: status, enable */
#define X86_ACPI_PM1A_CNT 0x604u /* 2 bytes: SLP_TYP/SLP_EN */
#define X86_ACPI_SCI_IRQ 9u
#define X86_ACPI_SLP_TYP_S5 5u

#define X86_IOAPIC_PINS 24u

#endif
