/*
 * apps/vquery/library.h: the layout of a FILE.vql library file (library.c reads and writes it; nothing else should
 * look inside). All integers little-endian (the byte-order mark catches a file from a big-endian host).
 *
 *   offset 0            header (VQ_LIB_HEADER bytes, below)
 *   model_off           vq_model_t
 *   names_off           count x VQ_NAME_MAX bytes, each a NUL-terminated image name
 *   desc_off            count x VQ_DIM floats, 64-byte aligned, one unit-length descriptor per name
 *   cent_off            nlist x VQ_DIM floats, 64-byte aligned: the coarse quantiser's unit centres (match_index.h)
 *   lists_off           nlist + 1 uint32: list l holds entries [lists[l], lists[l + 1]); lists[nlist] = count
 *   file_size           end; payload_crc is the CRC32C of bytes [VQ_LIB_HEADER, file_size), header_crc that of the
 *                       header with header_crc set to 0
 * With nlist = 0 (libraries below VQ_IVF_MIN_ENTRIES) there are no centres and lists holds one 0. With nlist > 0 the
 * entries (names and descriptors alike) are stored grouped by list, in name order within a list.
 *
 * Version 2 added the coarse quantiser (cent_off, lists_off, nlist, nprobe). Version 3 has the same layout, but its
 * photographs' descriptors pool two scales (describe.c), so the entries of an older file no longer match queries
 * made of photographs. An older file is refused with the command that rebuilds it.
 */
#ifndef VQUERY_LIBRARY_H
#define VQUERY_LIBRARY_H

#include <stddef.h>
#include <stdint.h>

#define VQ_LIB_MAGIC "SPOTVQL"  /* 8 bytes with its NUL */
#define VQ_LIB_VERSION 3u
#define VQ_LIB_BOM 0x01020304u
#define VQ_LIB_HEADER 128

typedef struct vq_lib_header {
  char magic[8];
  uint32_t version, bom;
  uint32_t header_size, dim, pca_dim, centres, name_max, model_size;
  uint64_t count, model_off, names_off, desc_off, file_size;
  uint32_t payload_crc, header_crc;
  uint32_t nlist, nprobe; /* lists of the coarse quantiser (0: none) and lists probed by default */
  uint64_t cent_off, lists_off;
  uint8_t pad[VQ_LIB_HEADER - 112];
} vq_lib_header_t;

_Static_assert(sizeof(vq_lib_header_t) == VQ_LIB_HEADER, "vql header layout");

/* CRC32C (Castagnoli) of n bytes, continuing from crc (start with 0). */
uint32_t vq_crc32c(uint32_t crc, const void *buf, size_t n);

#endif
