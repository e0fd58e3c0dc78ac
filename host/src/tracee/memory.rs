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
        self.read_c_string_as(addr, max)
    }

    /// [`read_c_string`](Self::read_c_string), made into a `T` (an
    /// `Rc<[u8]>`, say) straight from the bytes read when the string ends
    /// in its first page, as most do.
    pub fn read_c_string_as<T: for<'a> From<&'a [u8]>>(
        &self,
        addr: u64,
        max: usize,
    ) -> io::Result<T> {
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
                    if out.is_empty() {
                        return Ok(T::from(&chunk[..nul]));
                    }
                    out.extend_from_slice(&chunk[..nul]);
                    return Ok(T::from(&out));
                }
                out.extend_from_slice(chunk);
                at += chunk.len() as u64;
            }
            Ok(T::from(&out))
        })
    }

    fn mem_file(&self, write: bool) -> io::Result<std::fs::File> {
        OpenOptions::new()
            .read(true)
            .write(write)
            .open(self.proc_file("mem"))
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;

    /// This process, read as a tracee is.
    fn this_process() -> Tracee {
        // SAFETY: plain syscalls without arguments.
        let (pid, tid) = unsafe { (libc::getpid(), libc::gettid()) };
        Tracee { pid, tid }
    }

    #[test]
    fn a_string_is_read_to_its_nul_across_pages_and_up_to_the_limit() {
        let me = this_process();
        // The string starts 5 bytes before a page boundary inside the buffer.
        let mut pages = vec![b'x'; 3 * PAGE_SIZE as usize];
        let second = pages.as_ptr() as usize / PAGE_SIZE as usize * PAGE_SIZE as usize
            + 2 * PAGE_SIZE as usize;
        let start = second - 5 - pages.as_ptr() as usize;
        pages[start..start + 12].copy_from_slice(b"/across/page");
        pages[start + 12] = 0;
        let addr = pages[start..].as_ptr() as u64;
        assert_eq!(me.read_c_string(addr, 4096).unwrap(), b"/across/page");
        let shared: Rc<[u8]> = me.read_c_string_as(addr, 4096).unwrap();
        assert_eq!(&*shared, b"/across/page");
        assert_eq!(me.read_c_string(addr, 3).unwrap(), b"/ac");

        let short = b"/etc/hostname\0";
        let read: Rc<[u8]> = me.read_c_string_as(short.as_ptr() as u64, 4096).unwrap();
        assert_eq!(&*read, b"/etc/hostname");
        let error = me.read_c_string(0, 4096).unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::EFAULT));
    }
}
