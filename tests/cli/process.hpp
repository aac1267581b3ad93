// Runs the real actsearch binary (or any program) as a child process for end-to-end tests.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"

namespace actsearch::test {

struct ProcessResult {
    int status = -1;        // exit status, or 128 + signal
    std::string out, err;
};

// A child with stdout/stderr redirected to files, so nothing blocks on a full pipe.
class Child {
public:
    Child(const std::vector<std::string>& argv, const std::filesystem::path& dir,
          const std::vector<std::string>& env = {}) : out_(dir / "out.txt"), err_(dir / "err.txt") {
        pid_ = ::fork();
        if (pid_ == 0) {
            const int o = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            const int e = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            const int in = ::open("/dev/null", O_RDONLY);
            ::dup2(o, 1);
            ::dup2(e, 2);
            ::dup2(in, 0);
            ::setpgid(0, 0);   // its own process group: a kill reaches mpirun's children too
            for (const auto& kv : env) ::putenv(const_cast<char*>(kv.c_str()));
            std::vector<char*> args;
            for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execvp(args[0], args.data());
            _exit(127);
        }
        ::setpgid(pid_, pid_);   // also here: no race with an early signal()
    }
    pid_t pid() const noexcept { return pid_; }

    void signal(int sig) { ::kill(-pid_, sig); }

    // Waits at most `timeout`; kills the group and reports status -1 when it does not end in time.
    ProcessResult wait(std::chrono::seconds timeout = std::chrono::seconds(300)) {
        ProcessResult r;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        int st = 0;
        for (;;) {
            const pid_t w = ::waitpid(pid_, &st, WNOHANG);
            if (w == pid_) break;
            if (std::chrono::steady_clock::now() > deadline) {
                ::kill(-pid_, SIGKILL);
                ::waitpid(pid_, &st, 0);
                r.out = read_file(out_);
                r.err = read_file(err_) + "\n[test: timed out]";
                return r;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        r.out = read_file(out_);
        r.err = read_file(err_);
        return r;
    }

    std::string stdout_so_far() const { return read_file(out_); }

private:
    pid_t pid_ = -1;
    std::filesystem::path out_, err_;
};

// `prefix` (e.g. mpirun and its options), then the actsearch binary, then `args`.
inline std::vector<std::string> binary_argv(const std::vector<std::string>& args,
                                            std::vector<std::string> prefix = {}) {
    prefix.push_back(ACTSEARCH_BINARY);
    prefix.insert(prefix.end(), args.begin(), args.end());
    return prefix;
}

inline ProcessResult run_binary(const std::vector<std::string>& args, const std::filesystem::path& dir,
                                std::chrono::seconds timeout = std::chrono::seconds(300)) {
    Child c(binary_argv(args), dir);
    return c.wait(timeout);
}

}  // namespace actsearch::test
