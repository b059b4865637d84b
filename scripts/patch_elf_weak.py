#!/usr/bin/env python3
"""Inspect or patch ELF64 symbol-version records (used by scripts/patch-torchsharp.sh).

Commands
  status  FILE VERSION   print how FILE requires VERSION: "absent", "strong" or "weak"
  weaken  FILE VERSION   set VER_FLG_WEAK (0x2) in vna_flags of the Vernaux entry named VERSION in
                         .gnu.version_r; prints "patched" or "already-weak" (exit 0), "absent" (exit 3)
  defines FILE VERSION   exit 0 and print "yes" if FILE defines VERSION in .gnu.version_d, else print "no", exit 4

Only little-endian ELF64 is supported (x86-64 / aarch64 Linux). The sections are found through the section
header table; the names in the version records are read from the string table the section links to
(sh_link, normally .dynstr). Nothing but the one 16-bit vna_flags field is changed, and the file is replaced
atomically (write a temporary copy next to it, then rename), so a process that has the old file mapped keeps
a consistent view.
"""
import os
import struct
import sys
import tempfile

SHT_GNU_VERDEF = 0x6FFFFFFD
SHT_GNU_VERNEED = 0x6FFFFFFE
VER_FLG_WEAK = 0x2


class ElfError(Exception):
    pass


def _sections(data):
    if len(data) < 64 or data[:4] != b"\x7fELF":
        raise ElfError("not an ELF file")
    if data[4] != 2:
        raise ElfError("not ELF64 (EI_CLASS=%d)" % data[4])
    if data[5] != 1:
        raise ElfError("not little-endian (EI_DATA=%d)" % data[5])
    e_shoff, = struct.unpack_from("<Q", data, 0x28)
    e_shentsize, e_shnum, e_shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    if e_shoff == 0 or e_shnum == 0:
        raise ElfError("no section header table")
    if e_shentsize < 64 or e_shoff + e_shnum * e_shentsize > len(data):
        raise ElfError("section header table out of bounds")
    out = []
    for i in range(e_shnum):
        (sh_name, sh_type, _flags, _addr, sh_offset, sh_size, sh_link, sh_info, _align,
         _entsize) = struct.unpack_from("<IIQQQQIIQQ", data, e_shoff + i * e_shentsize)
        if sh_type != 8 and sh_offset + sh_size > len(data):  # 8 = SHT_NOBITS
            raise ElfError("section %d out of bounds" % i)
        out.append({"name_off": sh_name, "type": sh_type, "offset": sh_offset, "size": sh_size,
                    "link": sh_link, "info": sh_info})
    if e_shstrndx < len(out):
        shstr = out[e_shstrndx]
        for s in out:
            s["name"] = _cstr(data, shstr["offset"] + s["name_off"], shstr["offset"] + shstr["size"])
    return out


def _cstr(data, start, end):
    if start >= end:
        raise ElfError("string offset out of bounds")
    stop = data.find(b"\x00", start, end)
    if stop < 0:
        raise ElfError("unterminated string")
    return data[start:stop].decode("ascii", "replace")


def _find(sections, sh_type, name):
    for s in sections:
        if s["type"] == sh_type and s.get("name", name) == name:
            return s
    return None


def _strtab(sections, sec):
    if sec["link"] >= len(sections):
        raise ElfError("bad sh_link")
    st = sections[sec["link"]]
    return st["offset"], st["offset"] + st["size"]


def find_vernaux(data, version):
    """Offsets of the vna_flags fields of every Vernaux entry named `version` (usually zero or one)."""
    sections = _sections(data)
    sec = _find(sections, SHT_GNU_VERNEED, ".gnu.version_r")
    if sec is None:
        return []
    str_lo, str_hi = _strtab(sections, sec)
    base, end = sec["offset"], sec["offset"] + sec["size"]
    count = sec["info"]  # DT_VERNEEDNUM: number of Verneed entries
    found = []
    pos = base
    for _ in range(count):
        if pos + 16 > end:
            raise ElfError("Verneed entry out of bounds")
        _vn_version, vn_cnt, _vn_file, vn_aux, vn_next = struct.unpack_from("<HHIII", data, pos)
        aux = pos + vn_aux
        for _ in range(vn_cnt):
            if aux + 16 > end:
                raise ElfError("Vernaux entry out of bounds")
            _hash, _flags, _other, vna_name, vna_next = struct.unpack_from("<IHHII", data, aux)
            if _cstr(data, str_lo + vna_name, str_hi) == version:
                found.append(aux + 4)
            if vna_next == 0:
                break
            aux += vna_next
        if vn_next == 0:
            break
        pos += vn_next
    return found


def defines(data, version):
    sections = _sections(data)
    sec = _find(sections, SHT_GNU_VERDEF, ".gnu.version_d")
    if sec is None:
        return False
    str_lo, str_hi = _strtab(sections, sec)
    base, end = sec["offset"], sec["offset"] + sec["size"]
    pos = base
    for _ in range(sec["info"]):  # DT_VERDEFNUM
        if pos + 20 > end:
            raise ElfError("Verdef entry out of bounds")
        _ver, _flags, _ndx, vd_cnt, _hash, vd_aux, vd_next = struct.unpack_from("<HHHHIII", data, pos)
        if vd_cnt > 0:
            vda_name, = struct.unpack_from("<I", data, pos + vd_aux)
            if _cstr(data, str_lo + vda_name, str_hi) == version:
                return True
        if vd_next == 0:
            break
        pos += vd_next
    return False


def status(data, version):
    offsets = find_vernaux(data, version)
    if not offsets:
        return "absent"
    weak = all(struct.unpack_from("<H", data, o)[0] & VER_FLG_WEAK for o in offsets)
    return "weak" if weak else "strong"


def weaken(path, version):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    offsets = find_vernaux(data, version)
    if not offsets:
        return "absent"
    changed = False
    for o in offsets:
        flags, = struct.unpack_from("<H", data, o)
        if not flags & VER_FLG_WEAK:
            struct.pack_into("<H", data, o, flags | VER_FLG_WEAK)
            changed = True
    if not changed:
        return "already-weak"
    directory = os.path.dirname(os.path.abspath(path))
    mode = os.stat(path).st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=".patch-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return "patched"


def main(argv):
    if len(argv) != 4 or argv[1] not in ("status", "weaken", "defines"):
        sys.stderr.write(__doc__)
        return 2
    cmd, path, version = argv[1:]
    try:
        if cmd == "weaken":
            result = weaken(path, version)
            print(result)
            return 3 if result == "absent" else 0
        with open(path, "rb") as f:
            data = f.read()
        if cmd == "status":
            print(status(data, version))
            return 0
        ok = defines(data, version)
        print("yes" if ok else "no")
        return 0 if ok else 4
    except (OSError, ElfError) as e:
        sys.stderr.write("patch_elf_weak.py: %s: %s\n" % (path, e))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
