//! Buffers aligned for direct I/O.
//!
//! `O_DIRECT` moves data by DMA straight between the device and the caller's memory, so the
//! kernel demands that the buffer address, the file offset and the length are multiples of the
//! device's logical block size. 4096 covers every NVMe and SATA device in practice (512-byte
//! devices accept 4096-aligned requests too), so the testbed uses one constant.

use std::alloc::{self, Layout};
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

/// The alignment direct I/O requires of buffers, offsets and lengths.
pub const DIRECT_IO_ALIGN: usize = 4096;

/// A zero-initialised heap buffer whose address is a multiple of [`DIRECT_IO_ALIGN`].
pub struct AlignedBuf {
    ptr: NonNull<u8>,
    len: usize,
    layout: Layout,
}

// SAFETY: AlignedBuf owns its allocation exclusively, like Vec<u8>.
unsafe impl Send for AlignedBuf {}
// SAFETY: shared references only read the bytes, like &Vec<u8>.
unsafe impl Sync for AlignedBuf {}

impl AlignedBuf {
    /// A zeroed buffer of `len` bytes (rounded up to at least one alignment unit of capacity).
    pub fn zeroed(len: usize) -> Self {
        let cap = len.max(1).next_multiple_of(DIRECT_IO_ALIGN);
        let layout = Layout::from_size_align(cap, DIRECT_IO_ALIGN).expect("valid layout");
        // SAFETY: layout has non-zero size.
        let raw = unsafe { alloc::alloc_zeroed(layout) };
        let Some(ptr) = NonNull::new(raw) else {
            alloc::handle_alloc_error(layout)
        };
        AlignedBuf { ptr, len, layout }
    }

    /// A buffer holding a copy of `data`.
    pub fn from_slice(data: &[u8]) -> Self {
        let mut buf = AlignedBuf::zeroed(data.len());
        buf.copy_from_slice(data);
        buf
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the buffer holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Deref for AlignedBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: ptr is valid for `layout.size() >= len` initialised bytes.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl DerefMut for AlignedBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as above, and we hold the only reference.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        // SAFETY: allocated in `zeroed` with exactly this layout.
        unsafe { alloc::dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

impl std::fmt::Debug for AlignedBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlignedBuf").field("len", &self.len).finish()
    }
}

/// Check that a direct-I/O request is aligned; the error says which part is not.
pub(crate) fn check_direct(
    op: &'static str,
    path: &std::path::Path,
    addr: *const u8,
    len: usize,
    offset: u64,
) -> super::Result<()> {
    let a = DIRECT_IO_ALIGN;
    if (addr as usize) % a != 0 || len % a != 0 || offset % a as u64 != 0 {
        return Err(super::IoError::invalid(
            op,
            path,
            format!(
                "direct I/O needs buffer address, length and offset aligned to {a} bytes \
                 (address {addr:p}, length {len}, offset {offset}); use AlignedBuf"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_and_zeroed() {
        for len in [0, 1, 4095, 4096, 4097, 1 << 20] {
            let buf = AlignedBuf::zeroed(len);
            assert_eq!(buf.as_ptr() as usize % DIRECT_IO_ALIGN, 0);
            assert_eq!(buf.len(), len);
            assert!(buf.iter().all(|&b| b == 0));
        }
    }
}
