/* SPDX-License-Identifier: MIT */
/* Selectors of the guests' own flat GDT (start.S); usable from assembly. */
#ifndef GUEST_SEG_H
#define GUEST_SEG_H

#define SEG_CODE 0x08
#define SEG_DATA 0x10

#endif
