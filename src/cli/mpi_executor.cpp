#include "mpi_executor.hpp"

#include <omp.h>

#include <cstdlib>
#include <deque>
#include <sstream>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "actsearch/engine/evaluate.hpp"
#include "commands.hpp"

#ifdef ACTSEARCH_HAVE_MPI
#include <mpi.h>
#endif

namespace actsearch::cli {

#ifdef ACTSEARCH_HAVE_MPI
namespace {

bool g_active = false;
int g_rank = 0, g_size = 1;

enum Tag : int { kJobs = 1, kResults = 2, kStop = 3, kHello = 4 };

// Jobs and results travel as text lines; doubles are printed shortest-round-trip, so exactly.
std::string encode_jobs(const std::vector<Job>& jobs) {
    std::string s;
    for (const Job& j : jobs) s += fmt::format("{} {} {} {}\n", j.id, j.task, j.seed, j.expr);
    return s;
}

std::vector<Job> decode_jobs(const std::string& s) {
    std::vector<Job> jobs;
    std::istringstream in(s);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream l(line);
        Job j;
        l >> j.id >> j.task >> j.seed;
        l.get();
        std::getline(l, j.expr);
        jobs.push_back(std::move(j));
    }
    return jobs;
}

std::string one_line(std::string s) {
    for (char& c : s)
        if (c == '\n' || c == '\r') c = ' ';
    return s.empty() ? "-" : s;
}

std::string encode_result(std::size_t id, const engine::EvalResult& r) {
    return fmt::format("{} {} {} {} {} {} {}\n", id, static_cast<int>(r.status), r.val_acc, r.val_loss, r.train_loss,
                       r.seconds, one_line(r.message));
}

void send_text(const std::string& s, int dest, int tag) {
    MPI_Send(s.data(), static_cast<int>(s.size()), MPI_CHAR, dest, tag, MPI_COMM_WORLD);
}

std::string recv_text(int source, int tag, MPI_Status* status_out) {
    MPI_Status st;
    MPI_Probe(source, tag, MPI_COMM_WORLD, &st);
    int n = 0;
    MPI_Get_count(&st, MPI_CHAR, &n);
    std::string s(static_cast<std::size_t>(n), '\0');
    MPI_Recv(s.data(), n, MPI_CHAR, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (status_out) *status_out = st;
    return s;
}

class MpiExecutor final : public Executor {
public:
    MpiExecutor() {
        // Each worker announces how many jobs it trains at once and its engine: results are stored as
        // this rank's engine::identity(), so every rank must train with the same one (a throw here makes
        // the search abort every rank).
        slots_.assign(static_cast<std::size_t>(g_size), 0);
        for (int w = 1; w < g_size; ++w) {
            MPI_Status st;
            const std::string hello = recv_text(MPI_ANY_SOURCE, kHello, &st);
            slots_[static_cast<std::size_t>(st.MPI_SOURCE)] = std::max(1, std::atoi(hello.c_str()));
            const std::size_t space = hello.find(' ');
            const std::string engine = space == std::string::npos ? "" : hello.substr(space + 1);
            if (engine != engine::identity())
                throw UsageError(fmt::format("MPI rank {} trains with {}, rank 0 with {}: run the same actsearch build "
                                             "and oneDNN on every rank",
                                             st.MPI_SOURCE, engine.empty() ? "an unknown engine" : engine,
                                             engine::identity()));
        }
    }

    ~MpiExecutor() override {
        for (int w = 1; w < g_size; ++w) send_text("", w, kStop);
    }

    void run(const std::vector<Job>& jobs, const ResultFn& on_result, const StopFn& stop) override {
        std::deque<std::size_t> pending;
        for (std::size_t i = 0; i < jobs.size(); ++i) pending.push_back(i);
        int busy = 0;
        auto feed = [&](int w) {
            std::vector<Job> chunk;
            while (!pending.empty() && !stop() && chunk.size() < std::size_t(slots_[std::size_t(w)])) {
                Job j = jobs[pending.front()];
                j.id = pending.front();   // workers answer with the position in `jobs`
                chunk.push_back(std::move(j));
                pending.pop_front();
            }
            if (chunk.empty()) return;
            send_text(encode_jobs(chunk), w, kJobs);
            ++busy;
        };
        for (int w = 1; w < g_size; ++w) feed(w);
        while (busy > 0) {
            MPI_Status st;
            const std::string text = recv_text(MPI_ANY_SOURCE, kResults, &st);
            --busy;
            std::istringstream in(text);
            std::string line;
            while (std::getline(in, line)) {
                std::istringstream l(line);
                std::size_t index = 0;
                int status = 0;
                engine::EvalResult r;
                l >> index >> status >> r.val_acc >> r.val_loss >> r.train_loss >> r.seconds;
                l.get();
                std::getline(l, r.message);
                if (!l.good() && !l.eof()) throw std::runtime_error("MPI: unreadable result from rank " +
                                                                     std::to_string(st.MPI_SOURCE) + ": " + line);
                if (index >= jobs.size() || status < 0 || status > static_cast<int>(engine::EvalStatus::Error))
                    throw std::runtime_error("MPI: result for an unknown job from rank " + std::to_string(st.MPI_SOURCE));
                if (r.message == "-") r.message.clear();
                r.status = static_cast<engine::EvalStatus>(status);
                on_result(jobs[index], r);
            }
            feed(st.MPI_SOURCE);
        }
    }

    int slots() const override {
        int total = 0;
        for (int s : slots_) total += s;
        return total;
    }

private:
    std::vector<int> slots_;
};

}  // namespace

bool mpi_start(int* argc, char*** argv) {
    // Only under a launcher: a plain run must not pay for (or fail at) MPI start-up.
    if (!std::getenv("OMPI_COMM_WORLD_SIZE") && !std::getenv("PMI_SIZE") && !std::getenv("PMIX_RANK")) return false;
    int provided = 0;
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    g_active = g_size > 1;
    if (!g_active) MPI_Finalize();
    return g_active;
}

bool mpi_active() { return g_active; }
int mpi_rank() { return g_rank; }
int mpi_size() { return g_size; }

int mpi_default_threads() {
    int local = 1;
    if (const char* s = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE")) local = std::max(1, std::atoi(s));
    return std::max(1, omp_get_num_procs() / local);
}

void mpi_finish() {
    if (g_active) MPI_Finalize();
    g_active = false;
}

void mpi_abort(int status) {
    if (g_active) MPI_Abort(MPI_COMM_WORLD, status);
    std::exit(status);
}

std::unique_ptr<Executor> make_mpi_executor() {
    if (!g_active || g_rank != 0) return nullptr;
    return std::make_unique<MpiExecutor>();
}

void mpi_worker_loop(const std::vector<ScoreFn>& scorers, int threads) {
    send_text(std::to_string(threads) + " " + engine::identity(), 0, kHello);
    for (;;) {
        MPI_Status st;
        MPI_Probe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
        if (st.MPI_TAG == kStop) {
            recv_text(0, kStop, nullptr);
            return;
        }
        const std::vector<Job> jobs = decode_jobs(recv_text(0, kJobs, nullptr));
        std::vector<std::string> out(jobs.size());
        const int n = static_cast<int>(jobs.size());
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
        for (int i = 0; i < n; ++i) {
            const Job& j = jobs[static_cast<std::size_t>(i)];
            engine::EvalResult r;
            try {
                r = scorers.at(static_cast<std::size_t>(j.task))(j);
            } catch (const std::exception& e) {   // never let an exception leave the parallel region
                r.status = engine::EvalStatus::Error;
                r.message = e.what();
            }
            out[static_cast<std::size_t>(i)] = encode_result(j.id, r);
        }
        std::string all;
        for (const auto& s : out) all += s;
        send_text(all, 0, kResults);
    }
}

#else  // no MPI: everything runs in this process

bool mpi_start(int*, char***) { return false; }
bool mpi_active() { return false; }
int mpi_rank() { return 0; }
int mpi_size() { return 1; }
int mpi_default_threads() { return omp_get_num_procs(); }
void mpi_finish() {}
void mpi_abort(int status) { std::exit(status); }
std::unique_ptr<Executor> make_mpi_executor() { return nullptr; }
void mpi_worker_loop(const std::vector<ScoreFn>&, int) {}

#endif

}  // namespace actsearch::cli
