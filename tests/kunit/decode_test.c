// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the lightvisor MMIO instruction decoder.
 *
 * Two tables: instructions with the expected decoding (or error), and
 * instructions with a register value and MMIO data, checking how a load
 * or store completes.
 */
#include <kunit/test.h>
#include <linux/errno.h>

#include "../../module/decode.h"

#define L64	LV_MODE_LONG64
#define P32	LV_MODE_PROT32
#define P16	LV_MODE_PROT16
#define RM	LV_MODE_REAL

/* Instruction bytes; the byte count is the number of bytes available. */
#define CODE(...)	.code = { __VA_ARGS__ }, \
			.avail = sizeof((const u8[]){ __VA_ARGS__ })

struct decode_case {
	const char *name;
	enum lv_cpu_mode mode;
	u8 code[20];
	unsigned int avail;
	int ret;
	struct lv_mmio_insn exp;	/* checked when ret == 0 */
};

#define LOADX(sz, dsz, r) .op = LV_MMIO_LOAD, .size = (sz), .dst_size = (dsz), \
			  .reg = (r)
#define LOAD(sz, r)	LOADX(sz, sz, r)
#define STORE(sz, r)	.op = LV_MMIO_STORE, .size = (sz), .reg = (r)
#define RMW(sz, a, r)	.op = LV_MMIO_RMW, .size = (sz), .alu = (a), .reg = (r)

static const struct decode_case decode_cases[] = {
	/* MOV r/m, r (88, 89) */
	{ "mov [rax],al", L64, CODE(0x88, 0x00), 0,
	  { .len = 2, STORE(1, 0), .addr_size = 8 } },
	{ "mov [rax],ah", L64, CODE(0x88, 0x20), 0,
	  { .len = 2, STORE(1, 0), .high_byte = true, .addr_size = 8 } },
	{ "mov [rax],spl (REX)", L64, CODE(0x40, 0x88, 0x20), 0,
	  { .len = 3, STORE(1, 4), .addr_size = 8 } },
	{ "mov [rax],r8b", L64, CODE(0x44, 0x88, 0x00), 0,
	  { .len = 3, STORE(1, 8), .addr_size = 8 } },
	{ "mov [rax],r12b (REX.R, no AH)", L64, CODE(0x44, 0x88, 0x20), 0,
	  { .len = 3, STORE(1, 12), .addr_size = 8 } },
	{ "mov [rax],ecx", L64, CODE(0x89, 0x08), 0,
	  { .len = 2, STORE(4, 1), .addr_size = 8 } },
	{ "mov [rax],cx", L64, CODE(0x66, 0x89, 0x08), 0,
	  { .len = 3, STORE(2, 1), .addr_size = 8 } },
	{ "mov [rax],rcx", L64, CODE(0x48, 0x89, 0x08), 0,
	  { .len = 3, STORE(8, 1), .addr_size = 8 } },
	{ "66 REX.W: W wins", L64, CODE(0x66, 0x48, 0x89, 0x08), 0,
	  { .len = 4, STORE(8, 1), .addr_size = 8 } },
	{ "REX then 66: REX ignored", L64, CODE(0x48, 0x66, 0x89, 0x08), 0,
	  { .len = 4, STORE(2, 1), .addr_size = 8 } },
	{ "REX then 66: AH again", L64, CODE(0x40, 0x66, 0x88, 0x20), 0,
	  { .len = 4, STORE(1, 0), .high_byte = true, .addr_size = 8 } },
	{ "mov [r8],r15", L64, CODE(0x4d, 0x89, 0x38), 0,
	  { .len = 3, STORE(8, 15), .addr_size = 8 } },
	{ "prot32 mov [eax],ah", P32, CODE(0x88, 0x20), 0,
	  { .len = 2, STORE(1, 0), .high_byte = true, .addr_size = 4 } },
	{ "prot32 mov [eax],cx", P32, CODE(0x66, 0x89, 0x08), 0,
	  { .len = 3, STORE(2, 1), .addr_size = 4 } },
	{ "prot32 mov [disp32],edx", P32, CODE(0x89, 0x15, 0x00, 0x00, 0xfe, 0xfe), 0,
	  { .len = 6, STORE(4, 2), .addr_size = 4 } },

	/* MOV r, r/m (8A, 8B) with every addressing form */
	{ "mov al,[rsi]", L64, CODE(0x8a, 0x06), 0,
	  { .len = 2, LOAD(1, 0), .addr_size = 8 } },
	{ "mov bh,[rsi]", L64, CODE(0x8a, 0x3e), 0,
	  { .len = 2, LOAD(1, 3), .high_byte = true, .addr_size = 8 } },
	{ "mov dil,[rsi]", L64, CODE(0x40, 0x8a, 0x3e), 0,
	  { .len = 3, LOAD(1, 7), .addr_size = 8 } },
	{ "mov eax,[rbx]", L64, CODE(0x8b, 0x03), 0,
	  { .len = 2, LOAD(4, 0), .addr_size = 8 } },
	{ "mov r9,[rsp+8] SIB disp8", L64, CODE(0x4c, 0x8b, 0x4c, 0x24, 0x08), 0,
	  { .len = 5, LOAD(8, 9), .addr_size = 8 } },
	{ "mov eax,[rip+disp32]", L64, CODE(0x8b, 0x05, 0x00, 0x10, 0x00, 0x00), 0,
	  { .len = 6, LOAD(4, 0), .addr_size = 8 } },
	{ "mov eax,[eip+disp32] (67)", L64,
	  CODE(0x67, 0x8b, 0x05, 0x00, 0x10, 0x00, 0x00), 0,
	  { .len = 7, LOAD(4, 0), .addr_size = 4 } },
	{ "mov eax,[rax+rbx*4+disp32]", L64,
	  CODE(0x8b, 0x84, 0x98, 0x78, 0x56, 0x34, 0x12), 0,
	  { .len = 7, LOAD(4, 0), .addr_size = 8 } },
	{ "mov eax,[rbx*8+disp32] SIB no base", L64,
	  CODE(0x8b, 0x04, 0xdd, 0x00, 0x10, 0x00, 0x00), 0,
	  { .len = 7, LOAD(4, 0), .addr_size = 8 } },
	{ "REX.B SIB base 5 mod 0 is disp32", L64,
	  CODE(0x41, 0x8b, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00), 0,
	  { .len = 8, LOAD(4, 0), .addr_size = 8 } },
	{ "mov eax,[r13+0]", L64, CODE(0x41, 0x8b, 0x45, 0x00), 0,
	  { .len = 4, LOAD(4, 0), .addr_size = 8 } },
	{ "mov eax,[r12] needs SIB", L64, CODE(0x41, 0x8b, 0x04, 0x24), 0,
	  { .len = 4, LOAD(4, 0), .addr_size = 8 } },
	{ "mov eax,[rbp+disp32]", L64, CODE(0x8b, 0x85, 0x00, 0x01, 0x00, 0x00), 0,
	  { .len = 6, LOAD(4, 0), .addr_size = 8 } },
	{ "mov r11,[r10+r9*2+disp8]", L64, CODE(0x4f, 0x8b, 0x5c, 0x4a, 0x7f), 0,
	  { .len = 5, LOAD(8, 11), .addr_size = 8 } },
	{ "prot32 mov eax,[disp32]", P32, CODE(0x8b, 0x05, 0x00, 0x10, 0x00, 0x00), 0,
	  { .len = 6, LOAD(4, 0), .addr_size = 4 } },
	{ "prot32 16-bit addr mov eax,[disp16]", P32,
	  CODE(0x67, 0x8b, 0x06, 0x34, 0x12), 0,
	  { .len = 5, LOAD(4, 0), .addr_size = 2 } },
	{ "prot16 mov eax,[bx]", P16, CODE(0x66, 0x8b, 0x07), 0,
	  { .len = 3, LOAD(4, 0), .addr_size = 2 } },

	/* 16-bit addressing */
	{ "real mov ax,[bx]", RM, CODE(0x8b, 0x07), 0,
	  { .len = 2, LOAD(2, 0), .addr_size = 2 } },
	{ "real mov ax,[si] rm 4 no SIB", RM, CODE(0x8b, 0x04), 0,
	  { .len = 2, LOAD(2, 0), .addr_size = 2 } },
	{ "real mov ax,[disp16]", RM, CODE(0x8b, 0x06, 0x34, 0x12), 0,
	  { .len = 4, LOAD(2, 0), .addr_size = 2 } },
	{ "real mov ax,[bx+disp8]", RM, CODE(0x8b, 0x47, 0x10), 0,
	  { .len = 3, LOAD(2, 0), .addr_size = 2 } },
	{ "real mov dx,[bp+di+disp16]", RM, CODE(0x8b, 0x93, 0x34, 0x12), 0,
	  { .len = 4, LOAD(2, 2), .addr_size = 2 } },
	{ "real 67 mov ax,[esp] SIB", RM, CODE(0x67, 0x8b, 0x04, 0x24), 0,
	  { .len = 4, LOAD(2, 0), .addr_size = 4 } },
	{ "real mov [bx],bh", RM, CODE(0x88, 0x3f), 0,
	  { .len = 2, STORE(1, 3), .high_byte = true, .addr_size = 2 } },

	/* MOV r/m, imm (C6 /0, C7 /0) */
	{ "mov byte [rax],0x80", L64, CODE(0xc6, 0x00, 0x80), 0,
	  { .len = 3, STORE(1, 0), .has_imm = true, .imm = 0x80, .addr_size = 8 } },
	{ "mov word [rax],0x1234", L64, CODE(0x66, 0xc7, 0x00, 0x34, 0x12), 0,
	  { .len = 5, STORE(2, 0), .has_imm = true, .imm = 0x1234, .addr_size = 8 } },
	{ "mov dword [rax],imm32", L64, CODE(0xc7, 0x00, 0xef, 0xbe, 0xad, 0xde), 0,
	  { .len = 6, STORE(4, 0), .has_imm = true, .imm = 0xdeadbeef, .addr_size = 8 } },
	{ "mov qword [rax],-1", L64,
	  CODE(0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff), 0,
	  { .len = 7, STORE(8, 0), .has_imm = true, .imm = ~0ULL, .addr_size = 8 } },
	{ "mov qword [rax],0x7fffffff", L64,
	  CODE(0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0x7f), 0,
	  { .len = 7, STORE(8, 0), .has_imm = true, .imm = 0x7fffffff, .addr_size = 8 } },
	{ "mov qword [rip+disp32],imm32", L64,
	  CODE(0x48, 0xc7, 0x05, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80), 0,
	  { .len = 11, STORE(8, 0), .has_imm = true, .imm = 0xffffffff80000000ULL,
	    .addr_size = 8 } },
	{ "real mov word [bx+si],imm16", RM, CODE(0xc7, 0x00, 0xcd, 0xab), 0,
	  { .len = 4, STORE(2, 0), .has_imm = true, .imm = 0xabcd, .addr_size = 2 } },
	{ "prot32 mov byte [ebp+disp8],imm8", P32, CODE(0xc6, 0x45, 0xfc, 0x01), 0,
	  { .len = 4, STORE(1, 0), .has_imm = true, .imm = 1, .addr_size = 4 } },

	/* moffs (A0-A3) */
	{ "mov al,[moffs64]", L64,
	  CODE(0xa0, 1, 2, 3, 4, 5, 6, 7, 8), 0,
	  { .len = 9, LOAD(1, 0), .addr_size = 8 } },
	{ "REX.W mov al,[moffs64] stays byte", L64,
	  CODE(0x48, 0xa0, 1, 2, 3, 4, 5, 6, 7, 8), 0,
	  { .len = 10, LOAD(1, 0), .addr_size = 8 } },
	{ "mov rax,[moffs64]", L64,
	  CODE(0x48, 0xa1, 1, 2, 3, 4, 5, 6, 7, 8), 0,
	  { .len = 10, LOAD(8, 0), .addr_size = 8 } },
	{ "67 mov eax,[moffs32]", L64, CODE(0x67, 0xa1, 1, 2, 3, 4), 0,
	  { .len = 6, LOAD(4, 0), .addr_size = 4 } },
	{ "mov [moffs64],ax", L64,
	  CODE(0x66, 0xa3, 1, 2, 3, 4, 5, 6, 7, 8), 0,
	  { .len = 10, STORE(2, 0), .addr_size = 8 } },
	{ "mov [moffs64],al", L64,
	  CODE(0xa2, 1, 2, 3, 4, 5, 6, 7, 8), 0,
	  { .len = 9, STORE(1, 0), .addr_size = 8 } },
	{ "prot32 mov eax,[moffs32]", P32, CODE(0xa1, 1, 2, 3, 4), 0,
	  { .len = 5, LOAD(4, 0), .addr_size = 4 } },
	{ "prot32 67 mov [moffs16],eax", P32, CODE(0x67, 0xa3, 1, 2), 0,
	  { .len = 4, STORE(4, 0), .addr_size = 2 } },
	{ "real mov ax,[moffs16]", RM, CODE(0xa1, 1, 2), 0,
	  { .len = 3, LOAD(2, 0), .addr_size = 2 } },
	{ "real 67 mov ax,[moffs32]", RM, CODE(0x67, 0xa1, 1, 2, 3, 4), 0,
	  { .len = 6, LOAD(2, 0), .addr_size = 4 } },
	{ "real 66 mov eax,[moffs16]", RM, CODE(0x66, 0xa1, 1, 2), 0,
	  { .len = 4, LOAD(4, 0), .addr_size = 2 } },

	/* MOVZX, MOVSX, MOVSXD */
	{ "movzx eax,byte [rdi]", L64, CODE(0x0f, 0xb6, 0x07), 0,
	  { .len = 3, LOADX(1, 4, 0), .zero_extend = true, .addr_size = 8 } },
	{ "movzx rax,word [rdi]", L64, CODE(0x48, 0x0f, 0xb7, 0x07), 0,
	  { .len = 4, LOADX(2, 8, 0), .zero_extend = true, .addr_size = 8 } },
	{ "movzx ax,byte [rdi]", L64, CODE(0x66, 0x0f, 0xb6, 0x07), 0,
	  { .len = 4, LOADX(1, 2, 0), .zero_extend = true, .addr_size = 8 } },
	{ "movzx esi,byte [rdi] no AH rule", L64, CODE(0x0f, 0xb6, 0x37), 0,
	  { .len = 3, LOADX(1, 4, 6), .zero_extend = true, .addr_size = 8 } },
	{ "movsx ecx,byte [rdi]", L64, CODE(0x0f, 0xbe, 0x0f), 0,
	  { .len = 3, LOADX(1, 4, 1), .sign_extend = true, .addr_size = 8 } },
	{ "movsx r10,word [rdi]", L64, CODE(0x4c, 0x0f, 0xbf, 0x17), 0,
	  { .len = 4, LOADX(2, 8, 10), .sign_extend = true, .addr_size = 8 } },
	{ "real movzx ax,byte [bx]", RM, CODE(0x0f, 0xb6, 0x07), 0,
	  { .len = 3, LOADX(1, 2, 0), .zero_extend = true, .addr_size = 2 } },
	{ "prot32 movsx eax,word [disp32]", P32,
	  CODE(0x0f, 0xbf, 0x05, 0x00, 0x00, 0xfe, 0xfe), 0,
	  { .len = 7, LOADX(2, 4, 0), .sign_extend = true, .addr_size = 4 } },
	{ "movsxd rax,[rdi]", L64, CODE(0x48, 0x63, 0x07), 0,
	  { .len = 3, LOADX(4, 8, 0), .sign_extend = true, .addr_size = 8 } },
	{ "movsxd r8,[rip+disp32]", L64,
	  CODE(0x4c, 0x63, 0x05, 0x00, 0x01, 0x00, 0x00), 0,
	  { .len = 7, LOADX(4, 8, 8), .sign_extend = true, .addr_size = 8 } },
	{ "movsxd eax,[rdi] without REX.W", L64, CODE(0x63, 0x07), 0,
	  { .len = 2, LOAD(4, 0), .addr_size = 8 } },

	/* STOS, MOVS */
	{ "stosb", L64, CODE(0xaa), 0,
	  { .len = 1, STORE(1, 0), .string = true, .addr_size = 8 } },
	{ "rep stosd", L64, CODE(0xf3, 0xab), 0,
	  { .len = 2, STORE(4, 0), .string = true, .rep = true, .addr_size = 8 } },
	{ "rep stosq", L64, CODE(0xf3, 0x48, 0xab), 0,
	  { .len = 3, STORE(8, 0), .string = true, .rep = true, .addr_size = 8 } },
	{ "real stosw", RM, CODE(0xab), 0,
	  { .len = 1, STORE(2, 0), .string = true, .addr_size = 2 } },
	{ "prot32 rep 67 stosw", P32, CODE(0xf3, 0x66, 0x67, 0xab), 0,
	  { .len = 4, STORE(2, 0), .string = true, .rep = true, .addr_size = 2 } },
	{ "rep movsb", L64, CODE(0xf3, 0xa4), 0,
	  { .len = 2, .op = LV_MMIO_COPY, .size = 1, .string = true, .rep = true,
	    .addr_size = 8 } },
	{ "67 movsq", L64, CODE(0x67, 0x48, 0xa5), 0,
	  { .len = 3, .op = LV_MMIO_COPY, .size = 8, .string = true, .addr_size = 4 } },
	{ "fs movsd", P32, CODE(0x64, 0xa5), 0,
	  { .len = 2, .op = LV_MMIO_COPY, .size = 4, .string = true, .addr_size = 4,
	    .seg = LV_SEG_FS } },

	/* Other prefixes */
	{ "fs mov eax,[rax]", L64, CODE(0x64, 0x8b, 0x00), 0,
	  { .len = 3, LOAD(4, 0), .addr_size = 8, .seg = LV_SEG_FS } },
	{ "gs mov rax,[disp32] SIB", L64,
	  CODE(0x65, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x00), 0,
	  { .len = 9, LOAD(8, 0), .addr_size = 8, .seg = LV_SEG_GS } },
	{ "es cs: last segment wins", L64, CODE(0x26, 0x2e, 0x89, 0x00), 0,
	  { .len = 4, STORE(4, 0), .addr_size = 8, .seg = LV_SEG_CS } },
	{ "ss ds prot32", P32, CODE(0x36, 0x3e, 0x89, 0x00), 0,
	  { .len = 4, STORE(4, 0), .addr_size = 4, .seg = LV_SEG_DS } },
	{ "xrelease mov [rax],eax", L64, CODE(0xf3, 0x89, 0x00), 0,
	  { .len = 3, STORE(4, 0), .addr_size = 8 } },
	{ "15 bytes", L64,
	  CODE(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	       0x66, 0x66, 0x66, 0x89, 0x00), 0,
	  { .len = 15, STORE(2, 0), .addr_size = 8 } },

	/* Read-modify-write forms */
	{ "add [rax],eax", L64, CODE(0x01, 0x00), 0,
	  { .len = 2, RMW(4, LV_ALU_ADD, 0), .addr_size = 8 } },
	{ "lock or [rdi],cl", L64, CODE(0xf0, 0x08, 0x0f), 0,
	  { .len = 3, RMW(1, LV_ALU_OR, 1), .lock = true, .addr_size = 8 } },
	{ "lock and [rdi],r9", L64, CODE(0xf0, 0x4c, 0x21, 0x0f), 0,
	  { .len = 4, RMW(8, LV_ALU_AND, 9), .lock = true, .addr_size = 8 } },
	{ "lock xor [rdi],ax", L64, CODE(0x66, 0xf0, 0x31, 0x07), 0,
	  { .len = 4, RMW(2, LV_ALU_XOR, 0), .lock = true, .addr_size = 8 } },
	{ "lock sub [rdi],edx", L64, CODE(0xf0, 0x29, 0x17), 0,
	  { .len = 3, RMW(4, LV_ALU_SUB, 2), .lock = true, .addr_size = 8 } },
	{ "cmp [rdi],ecx", L64, CODE(0x39, 0x0f), 0,
	  { .len = 2, RMW(4, LV_ALU_CMP, 1), .addr_size = 8 } },
	{ "lock add dword [rdi],imm8 -1", L64, CODE(0xf0, 0x83, 0x07, 0xff), 0,
	  { .len = 4, RMW(4, LV_ALU_ADD, 0), .lock = true, .has_imm = true,
	    .imm = 0xffffffff, .addr_size = 8 } },
	{ "or qword [rdi],imm32", L64,
	  CODE(0x48, 0x81, 0x0f, 0x00, 0x00, 0x00, 0x80), 0,
	  { .len = 7, RMW(8, LV_ALU_OR, 0), .has_imm = true,
	    .imm = 0xffffffff80000000ULL, .addr_size = 8 } },
	{ "and byte [rdi],imm8", L64, CODE(0x80, 0x27, 0x7f), 0,
	  { .len = 3, RMW(1, LV_ALU_AND, 0), .has_imm = true, .imm = 0x7f,
	    .addr_size = 8 } },
	{ "test [rdi],eax", L64, CODE(0x85, 0x07), 0,
	  { .len = 2, RMW(4, LV_ALU_TEST, 0), .addr_size = 8 } },
	{ "xchg [rdi],rsi", L64, CODE(0x48, 0x87, 0x37), 0,
	  { .len = 3, RMW(8, LV_ALU_XCHG, 6), .addr_size = 8 } },
	{ "lock cmpxchg [rdi],ecx", L64, CODE(0xf0, 0x0f, 0xb1, 0x0f), 0,
	  { .len = 4, RMW(4, LV_ALU_CMPXCHG, 1), .lock = true, .addr_size = 8 } },
	{ "lock xadd [rdi],bl", L64, CODE(0xf0, 0x0f, 0xc0, 0x1f), 0,
	  { .len = 4, RMW(1, LV_ALU_XADD, 3), .lock = true, .addr_size = 8 } },
	{ "lock bts [rdi],eax", L64, CODE(0xf0, 0x0f, 0xab, 0x07), 0,
	  { .len = 4, RMW(4, LV_ALU_BTS, 0), .lock = true, .addr_size = 8 } },
	{ "lock btr [rdi],rax", L64, CODE(0xf0, 0x48, 0x0f, 0xb3, 0x07), 0,
	  { .len = 5, RMW(8, LV_ALU_BTR, 0), .lock = true, .addr_size = 8 } },
	{ "btc dword [rdi],35 (imm masked)", L64, CODE(0x0f, 0xba, 0x3f, 35), 0,
	  { .len = 4, RMW(4, LV_ALU_BTC, 0), .has_imm = true, .imm = 3,
	    .addr_size = 8 } },
	{ "bt [rdi],ecx", L64, CODE(0x0f, 0xa3, 0x0f), 0,
	  { .len = 3, RMW(4, LV_ALU_BT, 1), .addr_size = 8 } },
	{ "inc dword [rdi]", L64, CODE(0xff, 0x07), 0,
	  { .len = 2, RMW(4, LV_ALU_INC, 0), .addr_size = 8 } },
	{ "lock inc byte [rdi]", L64, CODE(0xf0, 0xfe, 0x07), 0,
	  { .len = 3, RMW(1, LV_ALU_INC, 0), .lock = true, .addr_size = 8 } },
	{ "lock dec word [rdi]", L64, CODE(0x66, 0xf0, 0xff, 0x0f), 0,
	  { .len = 4, RMW(2, LV_ALU_DEC, 0), .lock = true, .addr_size = 8 } },
	{ "dec qword [r9+8]", L64, CODE(0x49, 0xff, 0x49, 0x08), 0,
	  { .len = 4, RMW(8, LV_ALU_DEC, 0), .addr_size = 8 } },
	{ "not byte [rdi]", L64, CODE(0xf6, 0x17), 0,
	  { .len = 2, RMW(1, LV_ALU_NOT, 0), .addr_size = 8 } },
	{ "lock not qword [rdi]", L64, CODE(0xf0, 0x48, 0xf7, 0x17), 0,
	  { .len = 4, RMW(8, LV_ALU_NOT, 0), .lock = true, .addr_size = 8 } },
	{ "lock neg dword [rdi]", L64, CODE(0xf0, 0xf7, 0x1f), 0,
	  { .len = 3, RMW(4, LV_ALU_NEG, 0), .lock = true, .addr_size = 8 } },
	{ "neg word [rdi]", L64, CODE(0x66, 0xf7, 0x1f), 0,
	  { .len = 3, RMW(2, LV_ALU_NEG, 0), .addr_size = 8 } },
	{ "inc word [bx] (real mode)", RM, CODE(0xff, 0x07), 0,
	  { .len = 2, RMW(2, LV_ALU_INC, 0), .addr_size = 2 } },
	{ "66 neg dword [bx] (real mode)", RM, CODE(0x66, 0xf7, 0x1f), 0,
	  { .len = 3, RMW(4, LV_ALU_NEG, 0), .addr_size = 2 } },
	{ "movnti [rdi],rax", L64, CODE(0x48, 0x0f, 0xc3, 0x07), 0,
	  { .len = 4, STORE(8, 0), .addr_size = 8 } },
	{ "movnti [rdi],ecx", L64, CODE(0x0f, 0xc3, 0x0f), 0,
	  { .len = 3, STORE(4, 1), .addr_size = 8 } },

	/* Truncated input */
	{ "empty", L64, .avail = 0, -ENODATA },
	{ "prefix only", L64, CODE(0x66), -ENODATA },
	{ "REX only", L64, CODE(0x48), -ENODATA },
	{ "no ModRM", L64, CODE(0x8b), -ENODATA },
	{ "no SIB", L64, CODE(0x8b, 0x04), -ENODATA },
	{ "short disp32", L64, CODE(0x8b, 0x84, 0x98, 0x78, 0x56), -ENODATA },
	{ "short disp16", RM, CODE(0x8b, 0x06, 0x34), -ENODATA },
	{ "short imm32", L64, CODE(0xc7, 0x00, 0xef, 0xbe), -ENODATA },
	{ "short moffs64", L64, CODE(0x48, 0xa1, 1, 2, 3, 4), -ENODATA },
	{ "0F only", L64, CODE(0x0f), -ENODATA },

	/* Unsupported */
	{ "lock", L64, CODE(0xf0, 0x89, 0x00), -EINVAL },
	{ "call [rax] (FF /2)", L64, CODE(0xff, 0x10), -EINVAL },
	{ "push [rax] (FF /6)", L64, CODE(0xff, 0x30), -EINVAL },
	{ "FE /2", L64, CODE(0xfe, 0x10), -EINVAL },
	{ "mul dword [rdi] (F7 /4)", L64, CODE(0xf7, 0x27), -EINVAL },
	{ "test byte [rdi],imm8 (F6 /0)", L64, CODE(0xf6, 0x07, 0x01), -EINVAL },
	{ "inc eax (register form)", L64, CODE(0xff, 0xc0), -EINVAL },
	{ "short inc", L64, CODE(0xff), -ENODATA },
	{ "lock after prefix", L64, CODE(0x66, 0xf0, 0x89, 0x00), -EINVAL },
	{ "register operand", L64, CODE(0x89, 0xc0), -EINVAL },
	{ "lock test", L64, CODE(0xf0, 0x85, 0x00), -EINVAL },
	{ "lock bt", L64, CODE(0xf0, 0x0f, 0xa3, 0x00), -EINVAL },
	{ "0F BA /0", L64, CODE(0x0f, 0xba, 0x00, 0x01), -EINVAL },
	{ "66 movnti", L64, CODE(0x66, 0x0f, 0xc3, 0x00), -EINVAL },
	{ "add eax,[rax] (r, r/m)", L64, CODE(0x03, 0x00), -EINVAL },
	{ "C7 /1", L64, CODE(0xc7, 0x08, 0, 0, 0, 0), -EINVAL },
	{ "C6 /7 xabort", L64, CODE(0xc6, 0xf8, 0x00), -EINVAL },
	{ "arpl in prot32", P32, CODE(0x63, 0x07), -EINVAL },
	{ "inc eax in prot32", P32, CODE(0x40, 0x89, 0x00), -EINVAL },
	{ "movups", L64, CODE(0x0f, 0x10, 0x00), -EINVAL },
	{ "popcnt-like F3 0F B8", L64, CODE(0xf3, 0x0f, 0xb8, 0x07), -EINVAL },
	{ "F3 0F B6", L64, CODE(0xf3, 0x0f, 0xb6, 0x07), -EINVAL },
	{ "vex", L64, CODE(0xc5, 0xf9, 0x6f, 0x00), -EINVAL },
	{ "16 bytes", L64,
	  CODE(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	       0x66, 0x66, 0x66, 0x66, 0x89, 0x00), -EINVAL },
	{ "16 bytes, 15 available", L64,
	  CODE(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	       0x66, 0x66, 0x66, 0x66, 0x89), -EINVAL },
	{ "bad mode", (enum lv_cpu_mode)7, CODE(0x89, 0x00), -EINVAL },
};

static void decode_case_desc(const struct decode_case *t, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", t->name);
}

KUNIT_ARRAY_PARAM(decode, decode_cases, decode_case_desc);

static void lv_decode_test(struct kunit *test)
{
	const struct decode_case *t = test->param_value;
	const struct lv_mmio_insn *e = &t->exp;
	struct lv_mmio_insn insn;
	int ret;

	ret = lv_decode_mmio(t->code, t->avail, t->mode, &insn);
	KUNIT_ASSERT_EQ(test, ret, t->ret);
	if (ret)
		return;
	KUNIT_EXPECT_EQ(test, insn.len, e->len);
	KUNIT_EXPECT_EQ(test, insn.size, e->size);
	KUNIT_EXPECT_EQ(test, insn.op, e->op);
	KUNIT_EXPECT_EQ(test, insn.reg, e->reg);
	KUNIT_EXPECT_EQ(test, insn.dst_size, e->dst_size);
	KUNIT_EXPECT_EQ(test, insn.addr_size, e->addr_size);
	KUNIT_EXPECT_EQ(test, insn.seg, e->seg);
	KUNIT_EXPECT_EQ(test, insn.has_imm, e->has_imm);
	KUNIT_EXPECT_EQ(test, insn.high_byte, e->high_byte);
	KUNIT_EXPECT_EQ(test, insn.sign_extend, e->sign_extend);
	KUNIT_EXPECT_EQ(test, insn.zero_extend, e->zero_extend);
	KUNIT_EXPECT_EQ(test, insn.string, e->string);
	KUNIT_EXPECT_EQ(test, insn.rep, e->rep);
	KUNIT_EXPECT_EQ(test, insn.imm, e->imm);
	KUNIT_EXPECT_EQ(test, insn.alu, e->alu);
	KUNIT_EXPECT_EQ(test, insn.lock, e->lock);
}

static bool insn_equal(const struct lv_mmio_insn *a,
			const struct lv_mmio_insn *b)
{
	return a->len == b->len && a->size == b->size && a->op == b->op &&
	       a->reg == b->reg && a->dst_size == b->dst_size &&
	       a->addr_size == b->addr_size && a->seg == b->seg &&
	       a->has_imm == b->has_imm && a->high_byte == b->high_byte &&
	       a->sign_extend == b->sign_extend &&
	       a->zero_extend == b->zero_extend && a->string == b->string &&
	       a->rep == b->rep && a->imm == b->imm && a->mode == b->mode &&
	       a->alu == b->alu && a->lock == b->lock && a->base == b->base &&
	       a->index == b->index && a->scale == b->scale &&
	       a->bp_base == b->bp_base && a->moffs == b->moffs &&
	       a->disp == b->disp;
}

/*
 * lv_decode_mmio_cached() answers as lv_decode_mmio() does. One cache
 * serves every case in turn, so it holds the entries of earlier cases
 * (other bytes, other modes) when each is looked up.
 */
static struct lv_decode_cache decode_cache;

/* @code in @mode through the cache: the same result as decoded afresh. */
static void check_cached(struct kunit *test, const u8 *code,
			 unsigned int avail, enum lv_cpu_mode mode)
{
	struct lv_mmio_insn want, got;
	int ret;

	ret = lv_decode_mmio(code, avail, mode, &want);
	KUNIT_ASSERT_EQ(test, lv_decode_mmio_cached(&decode_cache, code, avail,
						    mode, &got), ret);
	if (!ret)
		KUNIT_EXPECT_EQ(test, insn_equal(&got, &want), true);
}

static void lv_decode_cache_test(struct kunit *test)
{
	const struct decode_case *t = test->param_value;
	struct lv_mmio_insn insn;
	unsigned int next, mode;

	check_cached(test, t->code, t->avail, t->mode);
	if (t->ret)
		return;
	/* The second time it is found: no entry is replaced. */
	next = decode_cache.next;
	check_cached(test, t->code, t->avail, t->mode);
	KUNIT_EXPECT_EQ(test, decode_cache.next, next);
	/* The same bytes in each mode decode as in that mode. */
	for (mode = LV_MODE_REAL; mode <= LV_MODE_LONG64; mode++)
		check_cached(test, t->code, t->avail, mode);
	/* Fewer bytes than the instruction has: never the cached entry. */
	lv_decode_mmio(t->code, t->avail, t->mode, &insn);
	check_cached(test, t->code, insn.len - 1, t->mode);
}

/*
 * Completion: decode, then apply lv_mmio_load_result() (loads) or
 * lv_mmio_store_data() (stores) to @reg and @data.
 */
struct complete_case {
	const char *name;
	enum lv_cpu_mode mode;
	u8 code[16];
	unsigned int avail;
	u64 reg;	/* old register value (loads), register value (stores) */
	u64 data;	/* data read from MMIO (loads) */
	u64 result;	/* new register value (loads), data written (stores) */
};

#define OLD	0x1122334455667788ULL

static const struct complete_case complete_cases[] = {
	{ "load al", L64, CODE(0x8a, 0x00), OLD, 0xaa, 0x11223344556677aaULL },
	{ "load al ignores upper data", L64, CODE(0x8a, 0x00), OLD, 0xffffff12,
	  0x1122334455667712ULL },
	{ "load ah", L64, CODE(0x8a, 0x20), OLD, 0xaa, 0x112233445566aa88ULL },
	{ "load bh", P32, CODE(0x8a, 0x3f), OLD, 0x5a, 0x1122334455665a88ULL },
	{ "load spl (REX) is low byte", L64, CODE(0x40, 0x8a, 0x20), OLD, 0xaa,
	  0x11223344556677aaULL },
	{ "load ax keeps upper bits", L64, CODE(0x66, 0x8b, 0x00), OLD, 0xbeef,
	  0x112233445566beefULL },
	{ "real load ax", RM, CODE(0x8b, 0x07), OLD, 0x12345678,
	  0x1122334455665678ULL },
	{ "load eax zero-extends", L64, CODE(0x8b, 0x00), OLD, 0xdeadbeef,
	  0xdeadbeefULL },
	{ "prot32 load eax", P32, CODE(0x8b, 0x00), OLD, 0xdeadbeef, 0xdeadbeefULL },
	{ "load rax", L64, CODE(0x48, 0x8b, 0x00), OLD, 0x0123456789abcdefULL,
	  0x0123456789abcdefULL },
	{ "moffs load eax", L64, CODE(0xa1, 1, 2, 3, 4, 5, 6, 7, 8), OLD,
	  0xcafef00d, 0xcafef00dULL },
	{ "movzx eax,byte", L64, CODE(0x0f, 0xb6, 0x00), OLD, 0xff, 0xff },
	{ "movzx ax,byte keeps upper", L64, CODE(0x66, 0x0f, 0xb6, 0x00), OLD, 0xff,
	  0x11223344556600ffULL },
	{ "movzx rax,word", L64, CODE(0x48, 0x0f, 0xb7, 0x00), OLD, 0xffff8000,
	  0x8000 },
	{ "movsx eax,byte negative", L64, CODE(0x0f, 0xbe, 0x00), OLD, 0x80,
	  0xffffff80ULL },
	{ "movsx ecx,byte positive", L64, CODE(0x0f, 0xbe, 0x08), OLD, 0x7f, 0x7f },
	{ "movsx ax,byte keeps upper", L64, CODE(0x66, 0x0f, 0xbe, 0x00), OLD, 0xff,
	  0x112233445566ffffULL },
	{ "movsx rax,word", L64, CODE(0x48, 0x0f, 0xbf, 0x00), OLD, 0x8000,
	  0xffffffffffff8000ULL },
	{ "movsxd rax negative", L64, CODE(0x48, 0x63, 0x00), OLD, 0x80000000,
	  0xffffffff80000000ULL },
	{ "movsxd rax positive", L64, CODE(0x48, 0x63, 0x00), OLD, 0x7fffffff,
	  0x7fffffffULL },
	{ "store ah", L64, CODE(0x88, 0x20), 0x1234, 0, 0x12 },
	{ "store r12b", L64, CODE(0x44, 0x88, 0x20), 0x1234, 0, 0x34 },
	{ "store cx", L64, CODE(0x66, 0x89, 0x08), 0x11223344, 0, 0x3344 },
	{ "store ecx", L64, CODE(0x89, 0x08), OLD, 0, 0x55667788 },
	{ "store rcx", L64, CODE(0x48, 0x89, 0x08), OLD, 0, OLD },
	{ "store imm8", L64, CODE(0xc6, 0x00, 0x80), OLD, 0, 0x80 },
	{ "store imm32 to qword", L64,
	  CODE(0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff), OLD, 0,
	  0xffffffffffffffffULL },
	{ "stosd", L64, CODE(0xab), OLD, 0, 0x55667788 },
};

static void complete_case_desc(const struct complete_case *t, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", t->name);
}

KUNIT_ARRAY_PARAM(complete, complete_cases, complete_case_desc);

static void lv_complete_test(struct kunit *test)
{
	const struct complete_case *t = test->param_value;
	struct lv_mmio_insn insn;
	int ret;

	ret = lv_decode_mmio(t->code, t->avail, t->mode, &insn);
	KUNIT_ASSERT_EQ(test, ret, 0);
	if (insn.op == LV_MMIO_LOAD)
		KUNIT_EXPECT_EQ(test, lv_mmio_load_result(&insn, t->reg, t->data),
				t->result);
	else
		KUNIT_EXPECT_EQ(test, lv_mmio_store_data(&insn, t->reg), t->result);
}

/*
 * Effective addresses: registers hold 0x1000 * (n + 1) for GPR n, RSP
 * 0x7fff0; RIP after the instruction is 0x400000.
 */
struct ea_case {
	const char *name;
	enum lv_cpu_mode mode;
	u8 code[16];
	unsigned int avail;
	u64 ea;
	bool ss;	/* the default segment is SS */
};

static const struct ea_case ea_cases[] = {
	{ "[rax]", L64, CODE(0x89, 0x00), 0x1000 },
	{ "[rsp+8] uses the current RSP, SS", L64, CODE(0x89, 0x44, 0x24, 0x08),
	  0x7fff8, true },
	{ "[rbp-1]", L64, CODE(0x89, 0x45, 0xff), 0x5fff, true },
	{ "[r13+0]", L64, CODE(0x41, 0x89, 0x45, 0x00), 0xe000, true },
	{ "[rax+rcx*4+0x10]", L64, CODE(0x89, 0x44, 0x88, 0x10), 0x9010 },
	{ "[r8+r9*8]", L64, CODE(0x43, 0x89, 0x04, 0xc8), 0x9000 + 0xa000 * 8 },
	{ "[rip+0x100]", L64, CODE(0x89, 0x05, 0x00, 0x01, 0, 0), 0x400100 },
	{ "[disp32] via SIB", L64, CODE(0x89, 0x04, 0x25, 0x78, 0x56, 0x34, 0x12),
	  0x12345678 },
	{ "67 [eax-0x2000] wraps at 4G", L64, CODE(0x67, 0x89, 0x80, 0, 0xe0,
	  0xff, 0xff), 0xfffff000 },
	{ "moffs64", L64, CODE(0x48, 0xa3, 8, 7, 6, 5, 4, 3, 2, 1),
	  0x0102030405060708ULL },
	{ "prot32 [disp32] is absolute", P32, CODE(0x89, 0x05, 0x00, 0x10, 0, 0),
	  0x1000 },
	{ "real [bx+si+4]", RM, CODE(0x89, 0x40, 0x04), 0xb004 },
	{ "real [bp+di-2] is SS", RM, CODE(0x89, 0x43, 0xfe), 0xdffe, true },
	{ "real [disp16]", RM, CODE(0x89, 0x06, 0x34, 0x12), 0x1234 },
	{ "real [si] wraps at 64K", RM, CODE(0x89, 0x44, 0xff), 0x6fff },
};

static void ea_case_desc(const struct ea_case *t, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", t->name);
}

KUNIT_ARRAY_PARAM(ea, ea_cases, ea_case_desc);

static void lv_ea_test(struct kunit *test)
{
	const struct ea_case *t = test->param_value;
	struct lv_mmio_insn insn;
	unsigned long regs[16];
	int i, ret;

	for (i = 0; i < 16; i++)
		regs[i] = 0x1000 * (i + 1);
	regs[4] = 0x7fff0;
	ret = lv_decode_mmio(t->code, t->avail, t->mode, &insn);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, lv_mmio_ea(&insn, regs, 0x400000), t->ea);
	KUNIT_EXPECT_EQ(test, insn.bp_base, t->ss);
}

/* lv_alu() against the CPU running the test, for every operation. */
struct alu_case {
	unsigned int size;
	u64 dst, src, flags_in;
};

static const struct alu_case alu_cases[] = {
	{ 1, 0x7f, 0x01, 0 }, { 1, 0xff, 0x01, 0 }, { 1, 0x80, 0x80, 0 },
	{ 1, 0x00, 0x01, X86_EFLAGS_CF }, { 1, 0x10, 0x0f, X86_EFLAGS_CF },
	{ 2, 0x8000, 0x0001, 0 }, { 2, 0x1234, 0x1234, X86_EFLAGS_CF },
	{ 4, 0x7fffffff, 1, 0 }, { 4, 0, 0xffffffff, X86_EFLAGS_CF },
	{ 4, 0x80000000, 0x80000000, 0 }, { 4, 0xdeadbeef, 0x12345678, 0 },
	{ 8, 0x7fffffffffffffffULL, 1, 0 }, { 8, 0, 1, X86_EFLAGS_CF },
	{ 8, 0xffffffffffffffffULL, 0xffffffffffffffffULL, X86_EFLAGS_CF },
	{ 8, 0x0123456789abcdefULL, 0xfedcba9876543210ULL, 0 },
};

static void alu_case_desc(const struct alu_case *t, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "size %u %#llx, %#llx, CF %u",
		 t->size, (unsigned long long)t->dst,
		 (unsigned long long)t->src, (unsigned int)(t->flags_in & 1));
}

KUNIT_ARRAY_PARAM(alu, alu_cases, alu_case_desc);

/*
 * Run ADD..CMP (@op 0-7) and INC, DEC, NOT, NEG on the CPU itself:
 * 64-bit forms on masked data.
 */
#define LV_ALU_ASM(insn, sfx, reg, d, s, f)				\
	asm("push %[fl]; popfq; " insn sfx " %" reg "[sv], %" reg "[dv]; " \
	    "pushfq; pop %[fl]"						\
	    : [dv] "+r"(d), [fl] "+r"(f) : [sv] "r"(s) : "cc")

#define LV_ALU_SIZES(insn, size, d, s, f) do {				\
		if ((size) == 1)					\
			LV_ALU_ASM(insn, "b", "b", d, s, f);		\
		else if ((size) == 2)					\
			LV_ALU_ASM(insn, "w", "w", d, s, f);		\
		else if ((size) == 4)					\
			LV_ALU_ASM(insn, "l", "k", d, s, f);		\
		else							\
			LV_ALU_ASM(insn, "q", "q", d, s, f);		\
	} while (0)

#define LV_ALU1_ASM(insn, sfx, reg, d, f)				\
	asm("push %[fl]; popfq; " insn sfx " %" reg "[dv]; "		\
	    "pushfq; pop %[fl]"						\
	    : [dv] "+r"(d), [fl] "+r"(f) : : "cc")

#define LV_ALU1_SIZES(insn, size, d, f) do {				\
		if ((size) == 1)					\
			LV_ALU1_ASM(insn, "b", "b", d, f);		\
		else if ((size) == 2)					\
			LV_ALU1_ASM(insn, "w", "w", d, f);		\
		else if ((size) == 4)					\
			LV_ALU1_ASM(insn, "l", "k", d, f);		\
		else							\
			LV_ALU1_ASM(insn, "q", "q", d, f);		\
	} while (0)

static u64 lv_cpu_alu(unsigned int op, unsigned int size, u64 d, u64 s,
		      u64 *flags)
{
	u64 cur;

	/* Only the arithmetic flags come from the case: keep IF as it is. */
	asm volatile("pushfq; pop %0" : "=r"(cur));
	*flags = (cur & ~LV_FLAGS_ARITH) | (*flags & LV_FLAGS_ARITH);
	switch (op) {
	case LV_ALU_ADD: LV_ALU_SIZES("add", size, d, s, *flags); break;
	case LV_ALU_OR:  LV_ALU_SIZES("or", size, d, s, *flags); break;
	case LV_ALU_ADC: LV_ALU_SIZES("adc", size, d, s, *flags); break;
	case LV_ALU_SBB: LV_ALU_SIZES("sbb", size, d, s, *flags); break;
	case LV_ALU_AND: LV_ALU_SIZES("and", size, d, s, *flags); break;
	case LV_ALU_SUB: LV_ALU_SIZES("sub", size, d, s, *flags); break;
	case LV_ALU_XOR: LV_ALU_SIZES("xor", size, d, s, *flags); break;
	case LV_ALU_INC: LV_ALU1_SIZES("inc", size, d, *flags); break;
	case LV_ALU_DEC: LV_ALU1_SIZES("dec", size, d, *flags); break;
	case LV_ALU_NOT: LV_ALU1_SIZES("not", size, d, *flags); break;
	case LV_ALU_NEG: LV_ALU1_SIZES("neg", size, d, *flags); break;
	default:         LV_ALU_SIZES("cmp", size, d, s, *flags); break;
	}
	return size == 8 ? d : d & ((1ULL << (size * 8)) - 1);
}

static void lv_alu_test(struct kunit *test)
{
	const struct alu_case *t = test->param_value;
	/* AF is undefined after logic operations: compare it elsewhere. */
	u64 mask, flags, cpu_flags, r, cpu_r;
	unsigned int op;

	for (op = LV_ALU_ADD; op <= LV_ALU_NEG; op++) {
		if (op > LV_ALU_CMP && op < LV_ALU_INC)
			continue;
		mask = LV_FLAGS_ARITH;
		if (op == LV_ALU_OR || op == LV_ALU_AND || op == LV_ALU_XOR)
			mask &= ~X86_EFLAGS_AF;
		flags = t->flags_in | 0x2;
		cpu_flags = flags;
		r = lv_alu(op, t->size, t->dst, t->src, &flags);
		cpu_r = lv_cpu_alu(op, t->size, t->dst, t->src, &cpu_flags);
		if (op != LV_ALU_CMP)
			KUNIT_EXPECT_EQ(test, r, cpu_r);
		KUNIT_EXPECT_EQ(test, flags & mask, cpu_flags & mask);
	}
}

static struct kunit_case lv_decode_test_cases[] = {
	KUNIT_CASE_PARAM(lv_decode_test, decode_gen_params),
	KUNIT_CASE_PARAM(lv_decode_cache_test, decode_gen_params),
	KUNIT_CASE_PARAM(lv_complete_test, complete_gen_params),
	KUNIT_CASE_PARAM(lv_ea_test, ea_gen_params),
	KUNIT_CASE_PARAM(lv_alu_test, alu_gen_params),
	{}
};

static struct kunit_suite lv_decode_test_suite = {
	.name = "lightvisor_decode",
	.test_cases = lv_decode_test_cases,
};

kunit_test_suite(lv_decode_test_suite);
