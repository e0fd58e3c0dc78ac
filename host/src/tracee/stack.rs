//! The call stack of a stopped thread: where in the program a call was made.
//!
//! [`Unwinder`] reads the thread's registers (it must be stopped under
//! ptrace by the calling thread), finds the loaded modules in
//! `/proc/PID/maps`, and unwinds with `framehop` from the modules' CFI
//! (`.eh_frame`, or `.debug_frame` where a module has only that; frame
//! pointers where there is neither, as in Go). Each return
//! address is kept as a [`Frame`]: the module's file and the address within
//! it, which address-space randomisation does not change from run to run.
//! [`symbolize`] names frames with `blazesym`.

use std::collections::HashMap;
use std::fs;
use std::ops::{Deref, Range};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use framehop::x86_64::{CacheX86_64, UnwindRegsX86_64, UnwinderX86_64};
use framehop::{ExplicitModuleSectionInfo, Module, Unwinder as _};
use object::{Object, ObjectSection, ObjectSegment};

use super::Tracee;

/// How much of the stack is read at once, from the stack pointer up.
const STACK_WINDOW: usize = 64 * 1024;

/// One return address (or, first, the address of the call instruction's
/// successor), as a module and an address within it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Frame {
    /// The module's file, as the process mapped it.
    pub module: Arc<Path>,
    /// The address in the module's own address space (its ELF virtual
    /// address), the same in every run.
    pub offset: u64,
}

/// Unwinds the stacks of traced threads, keeping what it learned of each
/// process's modules.
pub struct Unwinder {
    processes: HashMap<i32, ProcessModules>,
    cache: CacheX86_64,
    /// The buffer each stack is read into ([`STACK_WINDOW`] bytes), kept:
    /// a fresh one per stack cost a page fault per page, as many as the
    /// frames took to unwind.
    window: Vec<u8>,
}

impl Default for Unwinder {
    fn default() -> Self {
        Unwinder {
            processes: HashMap::new(),
            cache: CacheX86_64::default(),
            window: vec![0; STACK_WINDOW],
        }
    }
}

/// The modules of one process, as framehop and as address ranges.
#[derive(Default)]
struct ProcessModules {
    unwinder: UnwinderX86_64<Section>,
    /// (mapped range, base address, file) of each executable module.
    ranges: Vec<(Range<u64>, u64, Arc<Path>)>,
    /// Executable mappings outside any module (JIT code): known not to need
    /// a fresh look at the maps.
    anonymous: Vec<Range<u64>>,
}

impl ProcessModules {
    fn module_of(&self, address: u64) -> Option<&(Range<u64>, u64, Arc<Path>)> {
        self.ranges
            .iter()
            .find(|(range, _, _)| range.contains(&address))
    }
}

impl Unwinder {
    /// An unwinder that knows no process yet.
    pub fn new() -> Unwinder {
        Unwinder::default()
    }

    /// The call stack of `tracee`, innermost first, at most `depth` frames;
    /// empty if its registers cannot be read. Frames outside any file-backed
    /// module (JIT code) end the stack.
    pub fn stack(&mut self, tracee: &Tracee, depth: usize) -> Vec<Frame> {
        let Ok(regs) = nix::sys::ptrace::getregs(nix::unistd::Pid::from_raw(tracee.tid)) else {
            return Vec::new();
        };
        self.stack_at(tracee, (regs.rip, regs.rsp, regs.rbp), depth)
    }

    /// The call stack of `tracee` from the registers `(pc, sp, bp)` (a bp
    /// of 0 where it is not known: the modules' CFI alone then unwinds),
    /// innermost first, at most `depth` frames. The thread's memory is
    /// read with `process_vm_readv`: it need not be stopped by the caller,
    /// only not running (blocked in a call, as `/proc/PID/syscall` shows).
    pub fn stack_at(&mut self, tracee: &Tracee, regs: (u64, u64, u64), depth: usize) -> Vec<Frame> {
        let (pc, sp, _) = regs;
        if !self.processes.contains_key(&tracee.pid) || self.needs_fresh_maps(tracee.pid, pc) {
            self.load(tracee.pid);
        }
        let mut window = std::mem::take(&mut self.window);
        // The window may run past the stack's end: it stops there.
        let read = tracee.read_memory_upto(sp, &mut window).unwrap_or(0);
        let stack = StackWindow {
            start: sp,
            bytes: &window[..read],
        };
        let (frames, stray) = self.unwind(tracee, &stack, regs, depth);
        let frames = match stray {
            // A return address in code the maps were not read for: a
            // library loaded since (dlopen'd, as a Python extension's
            // libgdbm). Read the maps again and unwind once more.
            Some(address) if self.needs_fresh_maps(tracee.pid, address) => {
                self.load(tracee.pid);
                self.unwind(tracee, &stack, regs, depth).0
            }
            _ => frames,
        };
        self.window = window;
        frames
    }

    /// The frames from `regs`, and the address that ended them outside any
    /// known module, if one did.
    fn unwind(
        &mut self,
        tracee: &Tracee,
        stack: &StackWindow,
        (pc, sp, bp): (u64, u64, u64),
        depth: usize,
    ) -> (Vec<Frame>, Option<u64>) {
        let Some(process) = self.processes.get(&tracee.pid) else {
            return (Vec::new(), None);
        };
        let mut read = |address: u64| stack.word(tracee, address);
        let unwind_regs = UnwindRegsX86_64::new(pc, sp, bp);
        let mut frames = Vec::new();
        let mut iter = process
            .unwinder
            .iter_frames(pc, unwind_regs, &mut self.cache, &mut read);
        while frames.len() < depth {
            let Ok(Some(address)) = iter.next() else {
                break;
            };
            let Some((_, base, module)) = process.module_of(address.address()) else {
                return (frames, Some(address.address()));
            };
            frames.push(Frame {
                module: module.clone(),
                offset: address.address() - base,
            });
        }
        (frames, None)
    }

    /// Forget what is known of process `pid` (it exec'd or ended).
    pub fn forget(&mut self, pid: i32) {
        self.processes.remove(&pid);
    }

    /// Whether `pc` lies in code the maps were not read for (a library
    /// loaded since), as opposed to known anonymous code.
    fn needs_fresh_maps(&mut self, pid: i32, pc: u64) -> bool {
        let Some(process) = self.processes.get(&pid) else {
            return true;
        };
        process.module_of(pc).is_none() && !process.anonymous.iter().any(|r| r.contains(&pc))
    }

    fn load(&mut self, pid: i32) {
        let mut process = ProcessModules::default();
        super::look();
        let maps = fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
        for mapped in modules_in(&maps) {
            let Some(elf) = ElfFile::load(&mapped.path) else {
                continue;
            };
            let base = mapped.start_of_file - elf.first_segment_address;
            let module = Module::new(
                mapped.path.display().to_string(),
                mapped.code.clone(),
                base,
                elf.sections(),
            );
            process.unwinder.add_module(module);
            process
                .ranges
                .push((mapped.code, base, Arc::from(mapped.path.as_path())));
        }
        for line in maps.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 6 && fields.get(1).is_some_and(|perms| perms.contains('x')) {
                process
                    .anonymous
                    .extend(fields.first().and_then(|r| parse_range(r)));
            }
        }
        self.processes.insert(pid, process);
    }
}

/// A file-backed module as `/proc/PID/maps` shows it.
struct MappedModule {
    path: PathBuf,
    /// Where the file's first byte is mapped.
    start_of_file: u64,
    /// The span of its executable mappings.
    code: Range<u64>,
}

/// The file-backed modules with executable code in a maps listing.
fn modules_in(maps: &str) -> Vec<MappedModule> {
    let mut by_path: HashMap<&str, (Option<u64>, Option<Range<u64>>)> = HashMap::new();
    let mut order = Vec::new();
    for line in maps.lines() {
        let fields: Vec<&str> = line.splitn(6, ' ').collect();
        let [range, perms, offset, _dev, _inode, path] = fields[..] else {
            continue;
        };
        let path = path.trim_start();
        if !path.starts_with('/') {
            continue;
        }
        let (Some(range), Ok(offset)) = (parse_range(range), u64::from_str_radix(offset, 16))
        else {
            continue;
        };
        let entry = by_path.entry(path).or_insert_with(|| {
            order.push(path);
            (None, None)
        });
        if offset == 0 && entry.0.is_none() {
            entry.0 = Some(range.start);
        }
        if perms.contains('x') {
            entry.1 = Some(match entry.1.take() {
                Some(code) => code.start.min(range.start)..code.end.max(range.end),
                None => range,
            });
        }
    }
    order
        .into_iter()
        .filter_map(|path| match by_path.remove(path)? {
            (Some(start_of_file), Some(code)) => Some(MappedModule {
                path: PathBuf::from(path),
                start_of_file,
                code,
            }),
            _ => None,
        })
        .collect()
}

fn parse_range(text: &str) -> Option<Range<u64>> {
    let (start, end) = text.split_once('-')?;
    Some(u64::from_str_radix(start, 16).ok()?..u64::from_str_radix(end, 16).ok()?)
}

/// The bytes of one section of a module file.
struct Section(Arc<[u8]>);

impl Deref for Section {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// What unwinding needs of a module file, read once per explore (or other)
/// process and kept: the bytes of its CFI sections only, not the whole file
/// (a C library's code is megabytes, which x86-64 unwinding from CFI never
/// reads).
struct ElfFile {
    /// The address the segment at file offset 0 is linked at (0 for shared
    /// objects and position-independent executables).
    first_segment_address: u64,
    /// The address range of `.text`.
    text: Option<Range<u64>>,
    /// The CFI sections it has.
    sections: Vec<CfiSection>,
}

/// One section of call frame information (`.eh_frame`, `.eh_frame_hdr`,
/// `.debug_frame`) of a module file.
struct CfiSection {
    name: &'static str,
    /// Its address range, as linked.
    address: Range<u64>,
    bytes: Arc<[u8]>,
}

/// A module file's identity: its path and modification time.
type FileId = (PathBuf, Option<std::time::SystemTime>);

/// Module files already read.
static ELF_FILES: LazyLock<Mutex<HashMap<FileId, Arc<ElfFile>>>> = LazyLock::new(Default::default);

impl ElfFile {
    fn load(path: &Path) -> Option<Arc<ElfFile>> {
        let modified = fs::metadata(path).and_then(|m| m.modified()).ok();
        let key = (path.to_path_buf(), modified);
        let mut files = ELF_FILES.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(file) = files.get(&key) {
            return Some(file.clone());
        }
        // Only the headers and the sections asked for are read.
        let cache = object::ReadCache::new(fs::File::open(path).ok()?);
        let parsed = object::File::parse(&cache).ok()?;
        let first_segment_address = parsed
            .segments()
            .find(|segment| segment.file_range().0 == 0)
            .map(|segment| segment.address() & !0xfff)
            .unwrap_or(0);
        let address = |section: &object::Section<'_, '_, _>| {
            section.address()..section.address() + section.size()
        };
        let text = parsed.section_by_name(".text").map(|text| address(&text));
        let sections = [".eh_frame", ".eh_frame_hdr", ".debug_frame"]
            .into_iter()
            .filter_map(|name| {
                let section = parsed.section_by_name(name)?;
                Some(CfiSection {
                    name,
                    address: address(&section),
                    bytes: Arc::from(section.data().ok()?),
                })
            })
            .collect();
        let file = Arc::new(ElfFile {
            first_segment_address,
            text,
            sections,
        });
        files.insert(key, file.clone());
        Some(file)
    }

    fn sections(&self) -> ExplicitModuleSectionInfo<Section> {
        let find = |wanted: &str| {
            self.sections
                .iter()
                .find(|section| section.name == wanted)
                .map(|section| (section.address.clone(), Section(section.bytes.clone())))
        };
        let (eh_frame_svma, eh_frame) = find(".eh_frame").unzip();
        let (eh_frame_hdr_svma, eh_frame_hdr) = find(".eh_frame_hdr").unzip();
        let debug_frame = find(".debug_frame").map(|(_, data)| data);
        ExplicitModuleSectionInfo {
            base_svma: 0,
            text_svma: self.text.clone(),
            // Read only for Mach-O and PE unwind information.
            text: None,
            eh_frame_svma,
            eh_frame,
            eh_frame_hdr_svma,
            eh_frame_hdr,
            stubs_svma: None,
            stub_helper_svma: None,
            got_svma: None,
            unwind_info: None,
            debug_frame,
            text_segment_svma: None,
            text_segment: None,
        }
    }
}

/// The top of a thread's stack, read in one go.
struct StackWindow<'a> {
    start: u64,
    bytes: &'a [u8],
}

impl StackWindow<'_> {
    /// The 8-byte word at `address`, from the window or the tracee.
    fn word(&self, tracee: &Tracee, address: u64) -> Result<u64, ()> {
        let offset = address.checked_sub(self.start).ok_or(())? as usize;
        let bytes = match self.bytes.get(offset..offset + 8) {
            Some(bytes) => bytes.to_vec(),
            None => tracee.read_memory(address, 8).map_err(|_| ())?,
        };
        Ok(u64::from_le_bytes(bytes.try_into().map_err(|_| ())?))
    }
}

/// Names for `frames`: `function+0xoffset (file:line)` where the module has
/// symbols (and line tables), `module+0xoffset` where it has none.
pub fn symbolize(frames: &[Frame]) -> Vec<String> {
    Namer::new().name(frames)
}

/// Names frames as [`symbolize`] does, keeping what it read of each module
/// (its symbols, its line tables: for a C library with separate debug
/// information, megabytes to decompress) for the next stack it names.
pub struct Namer {
    symbolizer: blazesym::symbolize::Symbolizer,
}

impl Default for Namer {
    fn default() -> Self {
        Self::new()
    }
}

impl Namer {
    /// A namer that has read nothing yet.
    pub fn new() -> Namer {
        Namer {
            symbolizer: blazesym::symbolize::Symbolizer::new(),
        }
    }

    /// Names for `frames` (see [`symbolize`]).
    pub fn name(&self, frames: &[Frame]) -> Vec<String> {
        use blazesym::symbolize::source::{Elf, Source};
        use blazesym::symbolize::{Input, Symbolized};
        frames
            .iter()
            .enumerate()
            .map(|(index, frame)| {
                let fallback = || {
                    let name = frame
                        .module
                        .file_name()
                        .unwrap_or_default()
                        .to_string_lossy();
                    format!("{name}+{:#x}", frame.offset)
                };
                // A return address points after its call: look up the call.
                let lookup = if index == 0 {
                    frame.offset
                } else {
                    frame.offset - 1
                };
                let source = Source::Elf(Elf::new(frame.module.to_path_buf()));
                match self
                    .symbolizer
                    .symbolize_single(&source, Input::VirtOffset(lookup))
                {
                    Ok(Symbolized::Sym(sym)) => {
                        let place = sym
                            .code_info
                            .as_ref()
                            .and_then(|code| {
                                Some(format!(" ({}:{})", code.to_path().to_str()?, code.line?))
                            })
                            .unwrap_or_default();
                        format!("{}+{:#x}{place}", sym.name, sym.offset)
                    }
                    _ => fallback(),
                }
            })
            .collect()
    }
}
