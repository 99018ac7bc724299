// Shared memory mappings of segment files. The only file that imports the mmap binding
// (@riaskov/mmap-io); everything else sees `MappedFile`. Mappings are MAP_SHARED, so a write into
// the returned buffer is in the kernel's page cache at once and survives a killed process.
import mmapModule from '@riaskov/mmap-io';

// The package is CommonJS: at run time the default import is module.exports itself, while its
// typings describe an ES default export. Take the typed shape from the typings either way.
type MmapIo = (typeof mmapModule)['default'];
const mmapIo: MmapIo = ((mmapModule as unknown as { default?: MmapIo }).default ?? mmapModule) as MmapIo;

export const PAGE_BYTES: number = mmapIo.PAGESIZE;

/**
 * Maps `lengthBytes` of the open file `fd` read-write and shared. The file must already be at
 * least that long (the caller preallocates it with real blocks, so a full disk shows up as
 * ENOSPC when the file is created, never as SIGBUS on a write into the mapping).
 * The mapping is released when the returned Buffer is garbage collected; callers drop every
 * reference on close.
 */
export function mapShared(fd: number, lengthBytes: number): Buffer {
  return mmapIo.map(lengthBytes, 3 /* PROT_READ | PROT_WRITE */, mmapIo.MAP_SHARED, fd, 0, mmapIo.MADV_SEQUENTIAL);
}

/**
 * msync(MS_SYNC) of [offsetBytes, offsetBytes + lengthBytes) of a mapping; the start is rounded
 * down to a page boundary as msync requires. Blocks the calling thread until the pages are on disk.
 */
export function syncMapped(mapping: Buffer, offsetBytes: number, lengthBytes: number): void {
  const start = offsetBytes - (offsetBytes % PAGE_BYTES);
  const end = Math.min(mapping.length, offsetBytes + lengthBytes);
  if (end <= start) return;
  mmapIo.sync(mapping, start, end - start, true, false);
}
