//! Moving the running process onto a read-only view of its own binary
//! without exec'ing again.
//!
//! [`crate::sealed`] protects the host's berth binary by running from a
//! detached read-only bind mount of it: `/proc/<pid>/exe` then names a
//! path on that mount, and an open for writing fails with EROFS. Getting
//! there by `execveat` costs a second exec and start-up, 0.8 ms per
//! command on the development VM. This module gets the same result in
//! place:
//!
//! 1. every mapping of the binary is replaced, at the same address, by one
//!    that no longer goes through the writable path: the segments that were
//!    written (the relocated RELRO and data pages, found from the program
//!    headers) by an anonymous copy of their current bytes, the others
//!    (text, read-only data) by a mapping of the same file offset through
//!    the read-only mount (`mremap(MREMAP_FIXED)` swaps each atomically);
//! 2. `prctl(PR_SET_MM, PR_SET_MM_MAP)` with `exe_fd` then points the
//!    process's exe link at the read-only view. The kernel allows that
//!    only to CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE, and only once no
//!    mapping of the old path is left (`replace_mm_exe_file`, EBUSY), so
//!    a success proves step 1 complete.
//!
//! It must run while the process is single-threaded and before anything
//! keeps a pointer into a mapping it replaces other than by address (the
//! contents and addresses stay the same). Any failure leaves every mapping
//! with its original contents, so the caller can fall back to the exec.

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

use nix::errno::Errno;

use crate::error::{Op, SysError, SysResult};

/// `PR_SET_MM` and its `PR_SET_MM_MAP` sub-command (linux/prctl.h).
const PR_SET_MM: libc::c_int = 35;
const PR_SET_MM_MAP: libc::c_ulong = 14;

/// `struct prctl_mm_map` (linux/prctl.h).
#[repr(C)]
#[derive(Default)]
struct PrctlMmMap {
    start_code: u64,
    end_code: u64,
    start_data: u64,
    end_data: u64,
    start_brk: u64,
    brk: u64,
    start_stack: u64,
    arg_start: u64,
    arg_end: u64,
    env_start: u64,
    env_end: u64,
    auxv: u64,
    auxv_size: u32,
    exe_fd: u32,
}

/// One line of `/proc/self/maps` that maps the binary.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Vma {
    start: usize,
    end: usize,
    prot: libc::c_int,
    offset: i64,
}

/// Makes `ro_tree` (a detached read-only mount whose root is this
/// process's binary, from `open_tree(OPEN_TREE_CLONE)`) the only way the
/// process reaches its binary: its mappings and its exe link.
pub fn remap_onto(ro_tree: &OwnedFd) -> SysResult<()> {
    let file = reopen(ro_tree)?;
    let meta = nix::sys::stat::fstat(file.as_fd()).map_err(|e| SysError::new("remap: fstat", e))?;
    let maps = read("/proc/self/maps")?;
    let vmas = binary_vmas(&maps, meta.st_dev, meta.st_ino);
    if vmas.is_empty() {
        // Not the running binary: nothing would protect it.
        return Err(SysError::new("remap: binary not mapped", Errno::ENOENT));
    }
    let written = written_ranges()?;
    for vma in &vmas {
        let copy = vma.prot & libc::PROT_WRITE != 0
            || written.iter().any(|&(s, e)| s < vma.end && vma.start < e);
        if copy {
            swap_in_copy(vma)?;
        } else {
            swap_in_file(vma, &file)?;
        }
    }
    set_exe(&file)
}

/// An fd open for reading on the file at the root of `tree`: mappings and
/// the exe link need a real open file, which the `O_PATH` tree fd is not.
fn reopen(tree: &OwnedFd) -> SysResult<OwnedFd> {
    let path = format!("/proc/self/fd/{}\0", tree.as_raw_fd());
    // SAFETY: `path` is NUL-terminated and outlives the call; open
    // returns a new fd or -1.
    let fd = unsafe { libc::open(path.as_ptr().cast(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(SysError::new("remap: reopen binary", Errno::last()));
    }
    // SAFETY: open returned a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn read(path: &'static str) -> SysResult<String> {
    std::fs::read_to_string(path).op_at("read", std::path::Path::new(path))
}

/// The mappings of the file `(dev, ino)` in a `/proc/self/maps` text.
fn binary_vmas(maps: &str, dev: u64, ino: u64) -> Vec<Vma> {
    let want_dev = format!("{:02x}:{:02x}", libc::major(dev), libc::minor(dev));
    maps.lines()
        .filter_map(|line| {
            let mut f = line.split_ascii_whitespace();
            let (range, perms, offset, dev, inode) =
                (f.next()?, f.next()?, f.next()?, f.next()?, f.next()?);
            if dev != want_dev || inode.parse::<u64>().ok()? != ino {
                return None;
            }
            let (start, end) = range.split_once('-')?;
            let p = perms.as_bytes();
            let bit = |i: usize, c: u8, v: libc::c_int| if p.get(i) == Some(&c) { v } else { 0 };
            Some(Vma {
                start: usize::from_str_radix(start, 16).ok()?,
                end: usize::from_str_radix(end, 16).ok()?,
                prot: bit(0, b'r', libc::PROT_READ)
                    | bit(1, b'w', libc::PROT_WRITE)
                    | bit(2, b'x', libc::PROT_EXEC),
                offset: i64::from_str_radix(offset, 16).ok()?,
            })
        })
        .collect()
}

/// The address ranges of the binary's writable `PT_LOAD` segments (which
/// contain the RELRO one): pages there were written at start-up and
/// differ from the file.
fn written_ranges() -> SysResult<Vec<(usize, usize)>> {
    let bad = |what| SysError::new(what, Errno::EINVAL);
    // SAFETY: getauxval reads the process's auxiliary vector; no memory
    // of ours is touched.
    let (phdr, phnum) = unsafe {
        (
            libc::getauxval(libc::AT_PHDR),
            libc::getauxval(libc::AT_PHNUM),
        )
    };
    let table = usize::try_from(phdr).map_err(|_| bad("remap: AT_PHDR"))?;
    let phnum = usize::try_from(phnum).map_err(|_| bad("remap: AT_PHNUM"))?;
    if table == 0 || phnum == 0 {
        return Err(SysError::new("remap: no program headers", Errno::ENOENT));
    }
    // SAFETY: AT_PHDR is the address of the binary's program header
    // table, AT_PHNUM entries long, mapped read-only for the process's
    // whole life (it lies in the first PT_LOAD segment, which is only
    // ever swapped for a mapping with the same contents).
    let headers = unsafe { std::slice::from_raw_parts(table as *const libc::Elf64_Phdr, phnum) };
    let Some(own) = headers.iter().find(|h| h.p_type == libc::PT_PHDR) else {
        return Err(SysError::new("remap: no PT_PHDR", Errno::ENOENT));
    };
    let bias = phdr.wrapping_sub(own.p_vaddr);
    headers
        .iter()
        .filter(|h| h.p_type == libc::PT_LOAD && h.p_flags & libc::PF_W != 0)
        .map(|h| {
            let start = bias.wrapping_add(h.p_vaddr);
            let end = start.wrapping_add(h.p_memsz);
            Some((usize::try_from(start).ok()?, usize::try_from(end).ok()?))
        })
        .collect::<Option<_>>()
        .ok_or(bad("remap: PT_LOAD address"))
}

/// Replaces `vma` by an anonymous mapping holding its current bytes.
fn swap_in_copy(vma: &Vma) -> SysResult<()> {
    if vma.prot & libc::PROT_READ == 0 {
        return Err(SysError::new(
            "remap: unreadable written segment",
            Errno::EACCES,
        ));
    }
    let len = vma.end - vma.start;
    // SAFETY: a new anonymous mapping at an address the kernel picks.
    let new = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE,
            -1,
            0,
        )
    };
    if new == libc::MAP_FAILED {
        return Err(SysError::new("remap: mmap copy", Errno::last()));
    }
    // From here to the mremap nothing may write to the old segment (it
    // holds the program's statics): only these three calls run, on a
    // single thread, and none of them allocates or writes a static (errno
    // is thread-local, on the heap in a static binary).
    // SAFETY: `vma` is readable and `len` long, `new` is a fresh writable
    // mapping of `len` bytes; they do not overlap.
    unsafe { std::ptr::copy_nonoverlapping(vma.start as *const u8, new.cast::<u8>(), len) };
    // SAFETY: `new` is our mapping of `len` bytes.
    let protected = unsafe { libc::mprotect(new, len, vma.prot) } == 0;
    let moved = protected && move_over(new, vma);
    if !moved {
        let err = Errno::last();
        // SAFETY: `new` is still our mapping; the old one is untouched.
        unsafe { libc::munmap(new, len) };
        return Err(SysError::new("remap: move copy", err));
    }
    Ok(())
}

/// Replaces `vma` by a mapping of the same offset of `file`.
fn swap_in_file(vma: &Vma, file: &OwnedFd) -> SysResult<()> {
    let len = vma.end - vma.start;
    // SAFETY: a new private file mapping at an address the kernel picks.
    let new = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            vma.prot,
            libc::MAP_PRIVATE,
            file.as_raw_fd(),
            vma.offset,
        )
    };
    if new == libc::MAP_FAILED {
        return Err(SysError::new("remap: mmap binary", Errno::last()));
    }
    if !move_over(new, vma) {
        let err = Errno::last();
        // SAFETY: `new` is still our mapping; the old one is untouched.
        unsafe { libc::munmap(new, len) };
        return Err(SysError::new("remap: move mapping", err));
    }
    Ok(())
}

/// `mremap(new, len, len, MREMAP_MAYMOVE|MREMAP_FIXED, vma.start)`: the
/// kernel unmaps the old range and moves `new` there in one step.
fn move_over(new: *mut libc::c_void, vma: &Vma) -> bool {
    let len = vma.end - vma.start;
    // SAFETY: `new` is a mapping of `len` bytes we made, with the same
    // contents as the range it replaces (the file's bytes at that offset,
    // or a copy of the range): code running from the old range, this
    // function's included, continues unchanged in the new one.
    let ret = unsafe {
        libc::mremap(
            new,
            len,
            len,
            libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED,
            vma.start as *mut libc::c_void,
        )
    };
    ret == vma.start as *mut libc::c_void
}

/// Points the exe link at `file`, leaving every other field of the memory
/// map as it is.
fn set_exe(file: &OwnedFd) -> SysResult<()> {
    let stat = read("/proc/self/stat")?;
    let mut map =
        mm_fields(&stat).ok_or(SysError::new("remap: parse /proc/self/stat", Errno::EINVAL))?;
    map.exe_fd =
        u32::try_from(file.as_raw_fd()).map_err(|_| SysError::new("remap", Errno::EBADF))?;
    // The current break, read last: nothing below allocates.
    // SAFETY: brk(0) changes nothing and returns the current break.
    map.brk = unsafe { libc::syscall(libc::SYS_brk, 0) } as u64;
    // SAFETY: `map` is a valid prctl_mm_map of the size passed, which the
    // kernel only reads.
    let ret = unsafe {
        libc::prctl(
            PR_SET_MM,
            PR_SET_MM_MAP,
            &map as *const PrctlMmMap,
            std::mem::size_of::<PrctlMmMap>(),
            0,
        )
    };
    if ret != 0 {
        return Err(SysError::new("prctl PR_SET_MM_MAP", Errno::last()));
    }
    Ok(())
}

/// The memory map's bounds from a `/proc/self/stat` text (fields 26–28
/// and 45–51, all addresses).
fn mm_fields(stat: &str) -> Option<PrctlMmMap> {
    let fields = crate::proc::stat_fields(stat)?;
    let f = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    Some(PrctlMmMap {
        start_code: f(26)?,
        end_code: f(27)?,
        start_stack: f(28)?,
        start_data: f(45)?,
        end_data: f(46)?,
        start_brk: f(47)?,
        arg_start: f(48)?,
        arg_end: f(49)?,
        env_start: f(50)?,
        env_end: f(51)?,
        exe_fd: u32::MAX,
        ..PrctlMmMap::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_vmas_keeps_only_the_file_and_reads_perms() {
        let maps = "\
55cb7bb0c000-55cb7bb0e000 r--p 00000000 fe:00 247030   /usr/bin/berth
55cb7bb0e000-55cb7bb13000 r-xp 00002000 fe:00 247030   /usr/bin/berth
55cb7bb13000-55cb7bb16000 rw-p 00007000 fe:00 247030   /usr/bin/berth
55cb7bb16000-55cb7bb17000 rw-p 00000000 00:00 0        [heap]
7f0000000000-7f0000001000 r--p 00000000 fe:01 247030   /other/fs/same-inode
7f0000001000-7f0000002000 r--p 00000000 fe:00 11       /usr/lib/other
";
        let vmas = binary_vmas(maps, libc::makedev(0xfe, 0), 247030);
        assert_eq!(
            vmas,
            [
                Vma {
                    start: 0x55cb7bb0c000,
                    end: 0x55cb7bb0e000,
                    prot: libc::PROT_READ,
                    offset: 0
                },
                Vma {
                    start: 0x55cb7bb0e000,
                    end: 0x55cb7bb13000,
                    prot: libc::PROT_READ | libc::PROT_EXEC,
                    offset: 0x2000
                },
                Vma {
                    start: 0x55cb7bb13000,
                    end: 0x55cb7bb16000,
                    prot: libc::PROT_READ | libc::PROT_WRITE,
                    offset: 0x7000
                },
            ]
        );
    }

    #[test]
    fn mm_fields_counts_from_the_last_parenthesis() {
        let mut fields: Vec<String> = (3..=52).map(|n| (n * 1000).to_string()).collect();
        fields[0] = "S".into();
        // Fields other than the ones read may be anything.
        fields[18 - 3] = "-20".into();
        let stat = format!("42 (a) b (c)) {}", fields.join(" "));
        let map = mm_fields(&stat).expect("parsed");
        assert_eq!(
            [
                map.start_code,
                map.end_code,
                map.start_stack,
                map.start_data,
                map.env_end
            ],
            [26000, 27000, 28000, 45000, 51000]
        );
        assert_eq!(map.exe_fd, u32::MAX);
        assert!(mm_fields("42 (a) S 1 2").is_none());
    }
}
