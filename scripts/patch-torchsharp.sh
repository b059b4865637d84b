#!/usr/bin/env bash
# Makes TorchSharp's native library loadable on distributions whose libstdc++ predates GCC 13 (Debian 12, Ubuntu 22.04).
#
# libLibTorchSharp.so (TorchSharp 0.107.0) requires the symbol version GLIBCXX_3.4.32. The only symbol bound to it is
# _ZSt21ios_base_library_initv, which is referenced but never called, so marking that version requirement weak
# (VER_FLG_WEAK in the Vernaux entry of .gnu.version_r) lets the dynamic loader accept an older libstdc++.
# Without it TorchSharp fails with "... doesn't contain a reference to libtorch-cpu-linux-x64 ...".
#
# What it does, idempotently and only where needed:
#   1. nothing at all off Linux, or if the system libstdc++ already defines GLIBCXX_3.4.32;
#   2. patches <nuget global packages>/torchsharp/<version>/runtimes/linux-x64/native/libLibTorchSharp.so (one bit,
#      written to a temporary copy that then atomically replaces the file), unless it is already weak;
#   3. deletes every copy of libLibTorchSharp.so under this repository's bin/ folders (e.g. bin/Debug/net10.0/
#      runtimes/linux-x64/native/ or a bin/**/cpu/ folder) that differs from the patched one; the next build copies
#      the patched file again.
#
# Usage: bash scripts/patch-torchsharp.sh [--packages DIR] [--version X.Y.Z] [--quiet]
#   --packages  NuGet global packages folder (default: $NUGET_PACKAGES, else `dotnet nuget locals global-packages --list`)
#   --version   TorchSharp version (default: the TorchSharp-cpu version in Directory.Packages.props)
# Exit status: 0 when TorchSharp is loadable as far as this script can tell (patched, already patched, or not needed),
# 1 on failure (message on stderr). Requires python3 only when a patch is actually needed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
packages="${NUGET_PACKAGES:-}"
version=""
quiet=0
required="GLIBCXX_3.4.32"

while [ $# -gt 0 ]; do
  case "$1" in
    --packages) packages="$2"; shift 2 ;;
    --version) version="$2"; shift 2 ;;
    --quiet) quiet=1; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "patch-torchsharp.sh: unknown argument '$1'" >&2; exit 1 ;;
  esac
done

say() { if [ "$quiet" -eq 0 ]; then echo "patch-torchsharp: $*"; fi; }
fail() { echo "patch-torchsharp: error: $*" >&2; exit 1; }

if [ "$(uname -s)" != "Linux" ]; then
  say "not Linux, nothing to do"
  exit 0
fi
case "$(uname -m)" in
  x86_64|amd64) ;;
  *) say "TorchSharp-cpu ships no linux-$(uname -m) native library, nothing to do"; exit 0 ;;
esac

if [ -z "$version" ]; then
  version="$(sed -n 's/.*Include="TorchSharp-cpu"[^>]*Version="\([^"]*\)".*/\1/p' "$repo/Directory.Packages.props" 2>/dev/null | head -n1)"
  [ -n "$version" ] || fail "cannot read the TorchSharp-cpu version from Directory.Packages.props; pass --version"
fi
if [ -z "$packages" ]; then
  if command -v dotnet >/dev/null 2>&1; then
    packages="$(dotnet nuget locals global-packages --list 2>/dev/null | sed -n 's/^global-packages: *//p' | head -n1)"
  fi
  [ -n "$packages" ] || packages="$HOME/.nuget/packages"
fi
packages="${packages%/}"
lib="$packages/torchsharp/$version/runtimes/linux-x64/native/libLibTorchSharp.so"

find_python() {
  local p
  for p in python3 python; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import sys; sys.exit(0 if sys.version_info[0] == 3 else 1)' >/dev/null 2>&1; then
      echo "$p"; return 0
    fi
  done
  return 1
}

# The libstdc++ the loader would pick: the ldconfig cache, else the usual multiarch paths.
system_libstdcxx() {
  local p
  p="$( (ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true) | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')"
  if [ -n "$p" ] && [ -f "$p" ]; then echo "$p"; return 0; fi
  for p in /lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 /usr/lib/libstdc++.so.6; do
    if [ -f "$p" ]; then echo "$p"; return 0; fi
  done
  return 1
}

py="$(find_python || true)"
stdcxx="$(system_libstdcxx || true)"

# Step 1: is the fix needed at all?
if [ -n "$stdcxx" ]; then
  has_version=""
  if [ -n "$py" ]; then
    if "$py" "$here/patch_elf_weak.py" defines "$stdcxx" "$required" >/dev/null 2>&1; then has_version=1; fi
  elif grep -qa "$required" "$stdcxx" 2>/dev/null; then
    has_version=1
  fi
  if [ -n "$has_version" ]; then
    say "$stdcxx already provides $required, nothing to do"
    exit 0
  fi
fi

# Step 2: patch the packages-folder copy.
if [ ! -f "$lib" ]; then
  fail "$lib not found: run 'dotnet restore' first (TorchSharp $version, packages folder $packages)"
fi
if [ -z "$py" ]; then
  if command -v readelf >/dev/null 2>&1 && readelf -V "$lib" 2>/dev/null | grep -q "Name: $required  *Flags: WEAK"; then
    state="weak"
  else
    fail "python3 is needed to patch $lib (the system libstdc++ lacks $required). Install python3 (e.g. 'apt-get install python3-minimal') and run 'bash scripts/patch-torchsharp.sh', or install a libstdc++ from GCC 13 or newer."
  fi
else
  state="$("$py" "$here/patch_elf_weak.py" status "$lib" "$required")" || fail "cannot read $lib"
fi
case "$state" in
  absent) say "$lib does not require $required, nothing to patch" ;;
  weak) say "$lib already patched ($required is weak)" ;;
  strong)
    [ -w "$lib" ] || fail "$lib is not writable; run this script as the user that owns the NuGet packages folder"
    result="$("$py" "$here/patch_elf_weak.py" weaken "$lib" "$required")" || fail "patching $lib failed"
    say "$lib: $result ($required marked weak)"
    ;;
  *) fail "unexpected state '$state' for $lib" ;;
esac

# Step 3: remove stale (unpatched or otherwise different) copies from this repository's build outputs.
removed=0
while IFS= read -r -d '' copy; do
  if ! cmp -s "$copy" "$lib"; then
    rm -f -- "$copy"
    removed=$((removed + 1))
    say "removed stale copy ${copy#"$repo"/}"
  fi
done < <(find "$repo" -path "$repo/.git" -prune -o -type d -name bin -prune -print0 2>/dev/null |
         xargs -0 -r -I{} find {} -type f -name libLibTorchSharp.so -print0 2>/dev/null)
if [ "$removed" -gt 0 ]; then say "removed $removed stale copies; the next build copies the patched library"; fi
exit 0
