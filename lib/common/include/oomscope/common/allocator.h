#pragma once

namespace oomscope {

// Tunes glibc's malloc for a process whose memory is mostly a few large arrays (a parsed heap
// snapshot, the graph passes' work arrays), called once at the start of main().
//  - Every block of 1 MiB or more gets its own mapping, returned to the system when freed. By
//    default glibc raises that threshold each time such a block is freed (up to 32 MiB), after
//    which the next arrays come from the heap and stay resident once freed: 22 MiB of a 300 MB
//    snapshot's analysis was such dead memory.
//  - `max_arenas` (0: glibc's default) bounds the per-thread arenas, which keep what is freed in
//    them: a server with a thread per request wants 2.
// Does nothing where the C library is not glibc.
void TuneAllocator(int max_arenas = 0);

}  // namespace oomscope
