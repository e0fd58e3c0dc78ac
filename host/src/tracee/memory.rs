//! Reading and writing a tracee's memory.

use std::cell::RefCell;
use std::fs::OpenOptions;
use std::io::{self, IoSlice, IoSliceMut};
use std::os::unix::fs::FileExt;

use nix::sys::uio::{process_vm_readv, process_vm_writev, RemoteIoVec};
use nix::unistd::Pid;

use super::{look, Tracee};

/// The most bytes [`Tracee::read_c_string`] reads at a time: up to the end of
/// the page, so a string that ends just before an unmapped page still reads.
const PAGE_SIZE: u64 = 4096;

thread_local! {
    /// The page [`Tracee::read_c_string`] reads into, zeroed once per thread
    /// rather than at every read: a string is most often a path of a few
    /// dozen bytes, read at every decided call.
    static PAGE: RefCell<[u8; PAGE_SIZE as usize]> =
        const { RefCell::new([0; PAGE_SIZE as usize]) };
}

impl Tracee {
    /// Read `len` bytes at `addr` in the tracee's address space.
    pub fn read_memory(&self, addr: u64, len: usize) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; len];
        self.read_memory_into(addr, &mut buf)?;
        Ok(buf)
    }

    /// Fill as much of `buf` as there are readable bytes at `addr` (the
    /// readable memory may end sooner: the top of a stack), in one system
    /// call; how many bytes were read.
    pub fn read_memory_upto(&self, addr: u64, buf: &mut [u8]) -> io::Result<usize> {
        look();
        let remote = [RemoteIoVec {
            base: addr as usize,
            len: buf.len(),
        }];
        Ok(process_vm_readv(
            Pid::from_raw(self.tid),
            &mut [IoSliceMut::new(buf)],
            &remote,
        )?)
    }

    /// Fill `buf` with the bytes at `addr` in the tracee's address space.
    fn read_memory_into(&self, addr: u64, buf: &mut [u8]) -> io::Result<()> {
        look();
        let len = buf.len();
        let remote = [RemoteIoVec {
            base: addr as usize,
            len,
        }];
        let read = process_vm_readv(
            Pid::from_raw(self.tid),
            &mut [IoSliceMut::new(buf)],
            &remote,
        );
        match read {
            Ok(n) if n == len => Ok(()),
            // Partial or refused (e.g. a page without read permission that
            // /proc/PID/mem can still read): try the slow path.
            _ => self.mem_file(false)?.read_exact_at(buf, addr),
        }
    }

    /// Write `data` at `addr` in the tracee's address space, read-only pages
    /// included (as a debugger does, through `/proc/PID/mem`).
    pub fn write_memory(&self, addr: u64, data: &[u8]) -> io::Result<()> {
        look();
        // A path argument may be what changed.
        super::forget_resolved();
        let remote = [RemoteIoVec {
            base: addr as usize,
            len: data.len(),
        }];
        match process_vm_writev(Pid::from_raw(self.tid), &[IoSlice::new(data)], &remote) {
            Ok(n) if n == data.len() => Ok(()),
            _ => self.mem_file(true)?.write_all_at(data, addr),
        }
    }

    /// Read the NUL-terminated string at `addr`, at most `max` bytes (without
    /// the NUL).
    pub fn read_c_string(&self, addr: u64, max: usize) -> io::Result<Vec<u8>> {
        if addr == 0 {
            return Err(io::Error::from_raw_os_error(libc::EFAULT));
        }
        PAGE.with_borrow_mut(|page| {
            let mut out = Vec::new();
            let mut at = addr;
            while out.len() < max {
                let to_page_end = (PAGE_SIZE - at % PAGE_SIZE) as usize;
                let chunk = &mut page[..to_page_end.min(max - out.len())];
                self.read_memory_into(at, chunk)?;
                if let Some(nul) = chunk.iter().position(|&b| b == 0) {
                    out.extend_from_slice(&chunk[..nul]);
                    return Ok(out);
                }
                out.extend_from_slice(chunk);
                at += chunk.len() as u64;
            }
            Ok(out)
        })
    }

    fn mem_file(&self, write: bool) -> io::Result<std::fs::File> {
        OpenOptions::new()
            .read(true)
            .write(write)
            .open(self.proc_file("mem"))
    }
}
