// Evaluations over MPI. Every rank runs the same command line: rank 0 owns the strategy and the
// database (the only writer) and hands jobs out dynamically; every other rank trains what it receives
// with its local threads and sends results back. A job is (canonical expression, task index, seed):
// since a score depends only on (candidate, task, fidelity, seed), results equal a single-process run.
#pragma once

#include <memory>
#include <vector>

#include "actsearch/driver/executor.hpp"

namespace actsearch::cli {

using driver::Executor;
using driver::Job;
using driver::ResultFn;
using driver::ScoreFn;
using driver::StopFn;

// MPI_Init when launched by mpirun (and built with MPI); returns true when this process is one of
// several ranks. Safe to call when MPI is absent: returns false.
bool mpi_start(int* argc, char*** argv);
bool mpi_active();
int mpi_rank();
int mpi_size();
// Threads per rank when the user gave none: the machine's cores shared by the ranks on it.
int mpi_default_threads();
void mpi_finish();
[[noreturn]] void mpi_abort(int status);

// On rank 0 of a multi-rank job: the coordinating executor (its destructor releases the workers);
// nullptr when not running under MPI with several ranks.
std::unique_ptr<Executor> make_mpi_executor();

// On ranks > 0: receive and train jobs until rank 0 says stop.
void mpi_worker_loop(const std::vector<ScoreFn>& scorers, int threads);

}  // namespace actsearch::cli
