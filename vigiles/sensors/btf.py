"""Field offsets of the running kernel's structures, read from its BTF (/sys/kernel/btf/vmlinux).

An eBPF program that follows kernel pointers (a task's parent, its memory map) must know where each
field lies in this kernel's build; BTF, the kernel's own type description, says. Format: the
kernel's Documentation/bpf/btf.rst (struct btf_header, then struct btf_type records, each followed
by data whose size depends on its kind; then a string section of NUL-terminated names).
"""
from __future__ import annotations

import struct

VMLINUX = "/sys/kernel/btf/vmlinux"
MAGIC = 0xEB9F
HEADER = struct.Struct("<HBBIIIII")  # magic, version, flags, hdr_len, type_off, type_len, str_off, str_len
TYPE = struct.Struct("<III")  # name_off, info, size or type
MEMBER = struct.Struct("<III")  # name_off, type, offset

KIND_STRUCT, KIND_UNION = 4, 5
_TRAILER = {1: 4, 3: 12, 14: 4, 17: 4}
"""Bytes after a type record by kind, where fixed (INT, ARRAY, VAR, DECL_TAG); kinds with vlen
entries are in _PER_ENTRY; every other kind has none."""
_PER_ENTRY = {4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12}
"""Bytes per vlen entry: STRUCT and UNION members, ENUM values, FUNC_PROTO params, DATASEC vars, ENUM64."""


class BTFError(ValueError):
    pass


class BTF:
    """The structs and unions of one BTF blob, by type id, and their ids by name."""

    def __init__(self, data: bytes) -> None:
        if len(data) < HEADER.size:
            raise BTFError("BTF blob shorter than its header")
        magic, _version, _flags, hdr_len, type_off, type_len, str_off, str_len = HEADER.unpack_from(data, 0)
        if magic != MAGIC:
            raise BTFError(f"not BTF (magic {magic:#x}; big-endian BTF is not read)")
        types = data[hdr_len + type_off: hdr_len + type_off + type_len]
        self.strings = data[hdr_len + str_off: hdr_len + str_off + str_len]
        self.composites: dict[int, tuple[int, list[tuple[int, int, int]]]] = {}
        """type id -> (kind, [(name_off, member type id, bit offset | bit field size << 32)]) for
        structs and unions."""
        self.by_name: dict[str, int] = {}
        """struct name -> type id (the first struct of that name)."""
        self.aliases: dict[int, int] = {}
        """type id -> the type it qualifies (typedef, const, volatile, restrict, type tag)."""
        off, type_id = 0, 1
        while off + TYPE.size <= len(types):
            name_off, info, size_or_type = TYPE.unpack_from(types, off)
            off += TYPE.size
            kind, vlen, kind_flag = (info >> 24) & 0x1F, info & 0xFFFF, info >> 31
            if kind in (KIND_STRUCT, KIND_UNION):
                members = []
                for index in range(vlen):
                    m_name, m_type, m_off = MEMBER.unpack_from(types, off + index * MEMBER.size)
                    # with kind_flag, the offset's top byte is a bit field's size (0: not a bit field)
                    bits = m_off >> 24 if kind_flag else 0
                    members.append((m_name, m_type, (m_off & 0xFFFFFF if kind_flag else m_off) | (bits << 32)))
                self.composites[type_id] = (kind, members)
                if kind == KIND_STRUCT and name_off:
                    self.by_name.setdefault(self._name(name_off), type_id)
            elif kind in (8, 9, 10, 11, 18):
                self.aliases[type_id] = size_or_type
            off += _TRAILER.get(kind, 0) + _PER_ENTRY.get(kind, 0) * vlen
            type_id += 1

    @classmethod
    def load(cls, path: str = VMLINUX) -> "BTF":
        with open(path, "rb") as fh:
            return cls(fh.read())

    def _name(self, off: int) -> str:
        end = self.strings.find(b"\0", off)
        return self.strings[off:end if end >= 0 else None].decode("ascii", "replace")

    def offset(self, struct_name: str, field: str) -> int:
        """Byte offset of `field` in `struct struct_name`, looking into anonymous members (mm_struct
        keeps most of its fields in one); BTFError when there is no such field."""
        type_id = self.by_name.get(struct_name)
        if type_id is None:
            raise BTFError(f"no struct {struct_name} in BTF")
        found = self._find(type_id, field, 0)
        if found is None:
            raise BTFError(f"no field {field} in struct {struct_name}")
        if found >> 32 or found % 8:
            raise BTFError(f"{struct_name}.{field} is a bit field")
        return found // 8

    def _find(self, type_id: int, field: str, base: int, depth: int = 0) -> int | None:
        while type_id in self.aliases:
            type_id = self.aliases[type_id]
        entry = self.composites.get(type_id)
        if entry is None or depth > 8:
            return None
        for name_off, member_type, bit_off in entry[1]:
            if name_off and self._name(name_off) == field:
                return base + bit_off
        for name_off, member_type, bit_off in entry[1]:
            if not name_off and not bit_off >> 32:
                found = self._find(member_type, field, base + bit_off, depth + 1)
                if found is not None:
                    return found
        return None
