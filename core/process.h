// Process-wide settings r1kit's programs apply once at start (cli/main.cpp, the benchmarks).
#pragma once

namespace r1::core {

// Keeps freed memory in the heap instead of returning it to the kernel (glibc mallopt: no mmap for
// blocks under 1 GiB, no trimming below 2 GiB of free heap top). Model forwards allocate and free
// the same large tensors every step (a decode step's logits are 39 MB in fp32); handing them back to
// the kernel makes the next step pay a page fault and a page zeroing per 4 KB. Measured on the
// Qwen2.5-0.5B shape at 64 sequences: +20% decode throughput. The cost is a resident set that
// stays at its peak. Call before any thread starts.
void retain_freed_memory();

// Makes OpenMP threads sleep at barriers instead of spinning: when OMP_WAIT_POLICY and
// GOMP_SPINCOUNT are both unset, sets OMP_WAIT_POLICY=PASSIVE and re-executes the program
// (/proc/self/exe, same argv) so libgomp, which reads its environment when it is loaded, before
// main, sees it; returns normally otherwise. Why: LibTorch's CPU ops each open an OpenMP region,
// and the default policy spins a waiting thread for up to ~300k iterations. With any other process
// on the machine (a reward sandbox, a second rank, a parallel test) the spinning threads take the
// cores from the threads doing work: measured on 2 cores, a tiny-model training step ran at 99
// tokens/s spinning and 1,580 passive under the same load (docs/training.md). Call first in main.
// Throws r1::InternalError when the re-exec fails.
void use_passive_openmp(char** argv);

}  // namespace r1::core
